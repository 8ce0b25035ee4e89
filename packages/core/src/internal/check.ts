import { InvalidOptionError } from '../errors.ts';
import { type OptionChecks, optionChecks } from '../option-checks.ts';

/** Core's own option checks (`Deadline`, `ManualClock`): they throw the base {@link InvalidOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(InvalidOptionError);
