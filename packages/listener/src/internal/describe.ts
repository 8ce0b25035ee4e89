/** Describes a value for an error message without throwing on odd inputs. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  // JSON.stringify would print NaN and Infinity as "null".
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value !== null && typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name && name !== 'Object' && name !== 'Array') return `a ${name} instance`;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
