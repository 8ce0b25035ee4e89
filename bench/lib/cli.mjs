// Command-line flags shared by every part: --smoke, --runtimes=node,bun,deno and --name=value overrides.

/**
 * Parses `--flag` and `--name=value` arguments. `defaults` holds the full-run settings and `smoke`
 * the tiny ones; a `--name=value` flag overrides either (numbers stay numbers). Unknown names throw,
 * so that a typo does not silently run the full benchmark.
 */
export function parseArgs(argv, options) {
  try {
    return parseFlags(argv, options);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
}

function parseFlags(argv, { defaults, smoke, help }) {
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
  const mode = isSmoke ? 'smoke' : Object.keys(flags).length > 0 ? 'custom' : 'full';
  return { settings, mode };
}

function kebab(key) {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
