// `quiesce` as the umbrella package's bin runs it, for the benchmark: runCli from the build.
import { runCli } from '@quiesce/listener';

process.exitCode = await runCli(process.argv.slice(2));
