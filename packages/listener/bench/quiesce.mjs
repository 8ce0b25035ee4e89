// `quiesce` as the umbrella package's bin runs it, for the benchmark: runCli from the build.
import { runCli } from '../dist/index.js';

process.exitCode = await runCli(process.argv.slice(2));
