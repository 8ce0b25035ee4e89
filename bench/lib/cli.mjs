// Command-line flags shared by every part: --smoke, --runtimes=node,bun,deno, --lines=all|default|20,22,…
// (the Node lines Node rows run on: lib/targets.mjs) and --name=value overrides of a part's settings.

/** Settings every part takes: which runtimes, and which Node lines their Node rows run on. */
export const COMMON_DEFAULTS = Object.freeze({ runtimes: ['node', 'bun', 'deno'], lines: 'all' });
/** A smoke run's Node line: the Node running the bench (`--lines=all` runs the smoke on every line). */
export const COMMON_SMOKE = Object.freeze({ lines: 'default' });

/**
 * Parses `--flag` and `--name=value` arguments. `defaults` holds the full-run settings and `smoke`
 * the tiny ones; a `--name=value` flag overrides either (numbers stay numbers). Every part also
 * takes {@link COMMON_DEFAULTS} (`--runtimes`, `--lines`). Unknown names throw, so that a typo does
 * not silently run the full benchmark. The mode is `smoke` with `--smoke`, `custom` when a setting
 * differs from the full run's, else `full` (so `--lines=all` is still a full run).
 */
export function parseArgs(argv, options) {
  try {
    return parseFlags(argv, options);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
}

function parseFlags(argv, { defaults: own, smoke: ownSmoke, help }) {
  const defaults = { ...COMMON_DEFAULTS, ...own };
  const smoke = { ...COMMON_SMOKE, ...ownSmoke };
  const flags = {};
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      console.log(help);
      process.exit(0);
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/i.exec(arg);
    if (!match) throw new Error(`Unknown argument ${JSON.stringify(arg)}. Run with --help for the flags.`);
    flags[match[1]] = match[2] ?? true;
  }
  const isSmoke = flags.smoke === true || flags.smoke === 'true';
  delete flags.smoke;
  const settings = { ...defaults, ...(isSmoke ? smoke : {}) };
  for (const [name, raw] of Object.entries(flags)) {
    const key = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) {
      throw new Error(`Unknown flag --${name}. Known: --smoke, ${Object.keys(defaults).map((k) => `--${kebab(k)}`).join(', ')}.`);
    }
    const fallback = defaults[key];
    if (typeof fallback === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number ≥ 0, got ${JSON.stringify(raw)}.`);
      settings[key] = value;
    } else if (Array.isArray(fallback)) {
      settings[key] = String(raw).split(',').filter(Boolean);
    } else {
      settings[key] = raw;
    }
  }
  const differs = Object.keys(defaults).some((key) => JSON.stringify(settings[key]) !== JSON.stringify(defaults[key]));
  const mode = isSmoke ? 'smoke' : differs ? 'custom' : 'full';
  return { settings, mode };
}

function kebab(key) {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
