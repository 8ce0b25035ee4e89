// Correctness checks of a part: a lost request, a wrong exit code, a server that did not drain. They
// never look at a time, so a slow or loaded machine cannot fail them; what they catch fails the part
// (exit code 1, after its result file is written) in every mode, and the CI smoke runs on them.

/**
 * A list of problems. `expect(ok, what)` records `what` when `ok` is false; `finish()` prints them
 * and sets the exit code. Only rows whose behaviour Quiesce promises are checked (the anchors lose
 * requests by design: that is what the benchmarks show).
 */
export function createChecks(part) {
  const problems = [];
  return {
    problems,
    expect(ok, what) {
      if (!ok) problems.push(what);
      return ok;
    },
    finish() {
      if (problems.length === 0) {
        console.log(`${part}: correctness checks passed`);
        return;
      }
      for (const p of problems) console.error(`${part}: CORRECTNESS: ${p}`);
      process.exitCode = 1;
    },
  };
}
