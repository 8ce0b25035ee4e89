import process from 'node:process';
import { ListenerOptionError } from '../errors.ts';
import { envReadPermitted } from '@quiesce/core';
import { type ListenEnv, readListenEnv } from './listen-env.ts';
import { checkEnv, checkLog, checkPid } from './validate.ts';

/** The options every function that reads the inherited-socket variables takes. */
export interface EnvOptions {
  env?: Record<string, string | undefined>;
  pid?: number;
  warn?: ((line: string) => void) | false;
}

/**
 * Validates {@link EnvOptions} and reads (once per env object) what this process inherited. The
 * process's own environment is read only where the runtime permits it without a prompt (Deno's
 * per-variable env permission); a plain object is read as it is.
 */
export function listenEnvFrom(options: EnvOptions): ListenEnv {
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object');
  const { env = process.env, pid = process.pid, warn = (line: string) => console.warn(line) } = options;
  checkEnv('env', env);
  checkPid('pid', pid);
  checkLog('warn', warn);
  return readListenEnv(env, pid, warn === false ? () => {} : warn, env === process.env ? envReadPermitted : undefined);
}
