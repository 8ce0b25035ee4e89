// Goals and their verdicts, the same way in every part: a result is called met or missed only when
// it clears the noise of the method (the distance of a bare-vs-bare control from "no difference",
// and twice the standard error of the rounds); otherwise it is inconclusive. Each part records its
// goals in its result file (`goals`), which the report turns into the README's goal lines and the
// table of how the ratios move between Node lines.
import { median, standardError } from './stats.mjs';

/** The verdict words, as printed. */
export const MET = 'met';
export const MISSED = 'MISSED';
export const INCONCLUSIVE = 'inconclusive (within the noise)';

/**
 * The verdict on `value` against an upper bound `limit` ("≤ limit") with `noise` (≥ 0, in the
 * value's unit): met when value + noise ≤ limit, missed when value − noise > limit, else
 * inconclusive. A count goal (0 lost) passes `noise` 0 and leaves out `rounds`; a goal over
 * rounds passes their number: with fewer than three it is not called.
 */
export function verdictAtMost(value, limit, noise = 0, rounds = Number.POSITIVE_INFINITY) {
  if (!Number.isFinite(value)) return 'not measured';
  // One or two rounds say nothing about the noise (smoke runs): not called.
  if (rounds < 3) return `not called (${rounds} round${rounds === 1 ? '' : 's'})`;
  if (value + noise <= limit) return MET;
  if (value - noise > limit) return MISSED;
  return INCONCLUSIVE;
}

/**
 * The noise of a ratio measured over rounds: the larger of how far a bare-vs-bare control's median
 * ratio lands from 1 (when there is one) and twice the standard error of the rounds' ratios.
 */
export function ratioNoise(ratios, controlRatios) {
  const control = controlRatios?.length ? Math.abs(median(controlRatios) - 1) : 0;
  return Math.max(Number.isFinite(control) ? control : 0, 2 * standardError(ratios));
}

/** `{ median, min, max, sem, n }` of finite `values`, or undefined. */
export function spread(values) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return undefined;
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), sem: standardError(finite), n: finite.length };
}

/**
 * A goal record, as stored in a result file's `goals` and printed: which part, row and target, what
 * is measured, the goal in words, the value (and the rounds' range), the noise and the verdict.
 * `metric` names the measure the same way on every line (`measure` may name a line's fastest peer);
 * `subject` names the row the same way on every runtime (default: `row` without its target).
 */
export function goalRecord({ part, target, row, subject: name, metric, measure, goal, value, unit = '', digits = 3, range, noise, verdict, detail }) {
  const fmt = (x) => (Number.isFinite(x) ? `${x.toFixed(digits)}${unit}` : '-');
  const shown = [fmt(value), range ? `rounds ${fmt(range.min)}–${fmt(range.max)}` : undefined, noise ? `noise ±${noise.toFixed(digits)}${unit}` : undefined]
    .filter(Boolean)
    .join(', ');
  // `subject` + `metric` name the goal the same way on every line (the README's table across lines).
  const subject = name ?? (row.startsWith(`${target.label} `) ? row.slice(target.label.length + 1) : row);
  return {
    part,
    target: target.key,
    on: target.on,
    row,
    subject,
    metric: metric ?? measure,
    measure,
    goal,
    value: Number.isFinite(value) ? value : null,
    unit,
    min: range?.min ?? null,
    max: range?.max ?? null,
    noise: noise ?? null,
    display: `${shown}${detail ? ` (${detail})` : ''}`,
    verdict,
  };
}

/** One line per goal: `goal node22 quiesce: CPU per request vs bare 1.013× (…) — goal ≤ 1.02× — met`. */
export function printGoals(goals, mode) {
  const prefix = mode === 'smoke' ? '[smoke run, indicative only] ' : '';
  for (const g of goals) console.log(`${prefix}goal ${g.row}: ${g.measure} ${g.display} — goal ${g.goal} — ${g.verdict}`);
}
