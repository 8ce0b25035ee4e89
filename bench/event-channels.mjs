// What a publish site of the event catalog costs when nobody subscribes, side by side, on Node, Bun
// and Deno: the same loop (the bookkeeping of a connection closing in the drain) without a publish,
// with a guarded publish (`if (channel.hasSubscribers) channel.publish({...})`, as every Quiesce
// publisher does), with an unguarded one (the message is built and handed over anyway), and with a
// subscriber listening. Rounds alternate the variants; medians and ranges over rounds, ratios
// against the plain loop, and a second plain loop as the noise control. Times are the process's CPU
// time (user + system). Uses the built
// @quiesce/core (npm run build first). Bounded: rounds × variants × ~durationMs.
//
//   node bench/event-channels.mjs [--runtimes=node,bun,deno] [--rounds=9] [--duration-ms=200] [--smoke]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/cli.mjs';

const defaults = { runtimes: ['node', 'bun', 'deno'], rounds: 9, durationMs: 200 };
const smoke = { rounds: 2, durationMs: 20 };
const help = 'node bench/event-channels.mjs [--runtimes=node,bun,deno] [--rounds=9] [--duration-ms=200] [--smoke]';

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), Number(process.argv[4]));
} else {
  parent();
}

function parent() {
  const { settings } = parseArgs(process.argv.slice(2), { defaults, smoke, help });
  const root = fileURLToPath(new URL('../', import.meta.url));
  const script = fileURLToPath(import.meta.url);
  const commands = {
    node: [process.execPath, [script]],
    bun: [`${root}node_modules/.bin/bun`, [script]],
    deno: [`${root}node_modules/.bin/deno`, ['run', '--quiet', '--allow-read', script]],
  };
  console.log('| runtime | variant | ns/op (median) | rounds (min–max) | vs plain | added ns/op |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const runtime of settings.runtimes) {
    const [command, args] = commands[runtime];
    const result = spawnSync(command, [...args, '--child', String(settings.rounds), String(settings.durationMs)], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    if (result.status !== 0) {
      console.log(`| ${runtime} | failed: ${(result.stderr || result.error?.message || '').trim().split('\n')[0]} | | | | |`);
      continue;
    }
    const { version, rows } = JSON.parse(result.stdout.trim().split('\n').at(-1));
    const plain = rows.find((row) => row.variant === 'plain').median;
    for (const row of rows) {
      const ratio = row.median / plain;
      console.log(
        `| ${runtime} ${version} | ${row.variant} | ${row.median.toFixed(2)} | ${row.min.toFixed(2)}–${row.max.toFixed(2)} | ${ratio.toFixed(3)}× | ${(row.median - plain).toFixed(2)} |`,
      );
    }
  }
}

async function child(rounds, durationMs) {
  const { eventChannel } = await import('../packages/core/dist/index.js');
  const quiet = eventChannel('quiesce-bench:no-subscriber');
  const heard = eventChannel('quiesce-bench:subscribed');
  let received = 0;
  heard.subscribe(() => {
    received++;
  });
  const kinds = ['idle', 'preconnect', 'response-last', 'peer'];

  // One function per variant, written out (no shared callback: a call site shared by every variant
  // would be megamorphic and cost more than what is measured). Each does the same bookkeeping: a
  // count by kind and a running total, plus its publish.
  function plain(n) {
    const counts = new Uint32Array(4);
    let total = 0;
    let how = '';
    for (let i = 0; i < n; i++) {
      how = kinds[i & 3];
      counts[i & 3]++;
      total += i & 7;
    }
    return total + counts[0] + how.length;
  }
  function plain2(n) {
    const counts = new Uint32Array(4);
    let total = 0;
    let how = '';
    for (let i = 0; i < n; i++) {
      how = kinds[i & 3];
      counts[i & 3]++;
      total += i & 7;
    }
    return total + counts[0] + how.length;
  }
  function guarded(n) {
    const counts = new Uint32Array(4);
    let total = 0;
    let how = '';
    for (let i = 0; i < n; i++) {
      how = kinds[i & 3];
      counts[i & 3]++;
      total += i & 7;
      if (quiet.hasSubscribers) quiet.publish({ how, requests: i & 7, upgraded: false });
    }
    return total + counts[0] + how.length;
  }
  function unguarded(n) {
    const counts = new Uint32Array(4);
    let total = 0;
    let how = '';
    for (let i = 0; i < n; i++) {
      how = kinds[i & 3];
      counts[i & 3]++;
      total += i & 7;
      quiet.publish({ how, requests: i & 7, upgraded: false });
    }
    return total + counts[0] + how.length;
  }
  function subscribed(n) {
    const counts = new Uint32Array(4);
    let total = 0;
    let how = '';
    for (let i = 0; i < n; i++) {
      how = kinds[i & 3];
      counts[i & 3]++;
      total += i & 7;
      if (heard.hasSubscribers) heard.publish({ how, requests: i & 7, upgraded: false });
    }
    return total + counts[0] + how.length;
  }
  const variants = {
    plain,
    'plain (2nd)': plain2,
    'guarded, no subscriber': guarded,
    'unguarded, no subscriber': unguarded,
    'guarded, one subscriber': subscribed,
  };

  // CPU time of this process where the runtime has it (Node, Bun, Deno): steadier than wall time on
  // a machine that other work shares, which preempts a loop without it spending CPU.
  const cpuNow =
    typeof process?.cpuUsage === 'function'
      ? () => {
          const { user, system } = process.cpuUsage();
          return (user + system) / 1000;
        }
      : () => performance.now();

  // Calibrate n so that one run of the plain loop takes about durationMs; warm every variant up.
  let n = 100_000;
  let sink = 0;
  for (;;) {
    const started = performance.now();
    sink += variants.plain(n);
    if (performance.now() - started >= durationMs / 4 || n >= 1e9) break;
    n *= 2;
  }
  n *= 4;
  for (const run of Object.values(variants)) sink += run(Math.min(n, 1_000_000));

  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order, so that no variant always runs right after the same one.
    const names = Object.keys(variants);
    const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
    for (const name of order) {
      const started = cpuNow();
      sink += variants[name](n);
      samples[name].push(((cpuNow() - started) * 1e6) / n);
    }
  }
  const rows = Object.entries(samples).map(([variant, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { variant, median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
  });
  const version = typeof Bun !== 'undefined' ? Bun.version : typeof Deno !== 'undefined' ? Deno.version.deno : process.version;
  console.log(JSON.stringify({ version, n, sink, received, rows }));
}
