// Lists every skipped test by name at the end of a run, with the reason its name carries, so a run
// on the PostgreSQL queue backend says which Redis-only tests it did not run, and why.
class SkippedTestsReporter {
  onRunComplete(_contexts, results) {
    const skipped = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status === 'pending' || test.status === 'skipped') {
          skipped.push(`  ${file.testFilePath.replace(`${process.cwd()}/`, '')} › ${test.fullName}`);
        }
      }
    }
    if (skipped.length === 0) return;
    process.stdout.write(`\nSkipped tests (${skipped.length}):\n${skipped.join('\n')}\n`);
  }
}
module.exports = SkippedTestsReporter;
