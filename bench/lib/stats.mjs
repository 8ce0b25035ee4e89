// Medians and ratios.

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value, digits = 0) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `1.013×`, or `-` when there is nothing to compare. */
export function ratio(value, base, digits = 3) {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return '-';
  return `${(value / base).toFixed(digits)}×`;
}

/** Rotates `items` by `n`, so that each round runs the variants in a different order. */
export function rotate(items, n) {
  const k = ((n % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Standard error of the mean of `values` (sample standard deviation over √n); 0 for fewer than two. */
export function standardError(values) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length < 2) return 0;
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const variance = finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1);
  return Math.sqrt(variance / finite.length);
}

/**
 * A bootstrap interval of the median of `values` (`level` 0.95: the 2.5th and 97.5th percentiles of
 * the medians of `resamples` resamples), with a fixed seed so that the same rounds always print the
 * same interval. How far the median of these rounds could move with other rounds like them: narrow
 * means enough rounds. `{ lo, hi }`, or undefined for fewer than three values.
 */
export function medianInterval(values, { level = 0.95, resamples = 2_000, seed = 1 } = {}) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length < 3) return undefined;
  let state = seed >>> 0 || 1;
  // xorshift32: small, seeded, good enough to pick resample indices.
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const medians = [];
  const sample = new Array(finite.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < finite.length; i++) sample[i] = finite[Math.floor(next() * finite.length)];
    medians.push(median(sample));
  }
  medians.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { lo: medians[Math.floor(tail * resamples)], hi: medians[Math.min(resamples - 1, Math.ceil((1 - tail) * resamples) - 1)] };
}
