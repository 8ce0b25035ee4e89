#!/usr/bin/env node
// `quiesce port <port>` and `quiesce run --listen HOST:PORT -- <command…>`; see @quiesce/listener.
import { runCli } from '@quiesce/listener';

process.exitCode = await runCli(process.argv.slice(2));
