// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of the README's contract: its interfaces are declared by the fragment, then checked to be
// the package's own, each assignable to the other.
import type * as Package from '@quiesce/registry';

type RegistryState = Package.RegistryState;
type ServiceInstance = Package.ServiceInstance;

// @snippet

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const registryIsThePackages: Same<ServiceRegistry, Package.ServiceRegistry> = true;
export const resultIsThePackages: Same<RegistryResult, Package.RegistryResult> = true;
