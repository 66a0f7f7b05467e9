// A node:test reporter that prints, after the run, every skipped test or suite with its reason (test/support/tools.ts
// words them: what is missing and how to install it). The spec reporter shows them inline only, and does not count a
// skipped suite as skipped. Then one plain closing line, `unit: N passed, N failed`. Used by `npm run test:unit`
// next to the spec reporter.
import * as path from "node:path";

export default async function* skipSummary(source) {
  const skipped = [];
  let passed = 0;
  let failed = 0;
  /** Nesting levels at which a test has finished since its parent started: the parent is then a suite. */
  const hadChildren = new Set();
  for await (const event of source) {
    // Leaf tests only (suites report too, after their children, one level up): the closing line counts them.
    if (event.type === "test:pass" || event.type === "test:fail") {
      const level = event.data.nesting;
      const isSuite = hadChildren.has(level + 1);
      hadChildren.delete(level + 1);
      hadChildren.add(level);
      if (!isSuite && event.data.skip === undefined && event.data.todo === undefined) {
        if (event.type === "test:pass") passed += 1;
        else failed += 1;
      }
    }
    if ((event.type === "test:pass" || event.type === "test:fail") && event.data.skip !== undefined) {
      const file = event.data.file ? path.relative(process.cwd(), event.data.file) : "";
      const reason = typeof event.data.skip === "string" ? event.data.skip : "(no reason given)";
      skipped.push(`  - ${file ? `${file} › ` : ""}${event.data.name}: ${reason}`);
    }
  }
  yield skipped.length === 0
    ? "\nSkipped: none, every check ran.\n"
    : `\nSkipped (${skipped.length}; the rest ran):\n${skipped.join("\n")}\n`;
  yield `unit: ${passed} passed, ${failed} failed\n`;
}
