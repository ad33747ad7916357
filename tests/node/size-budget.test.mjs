// The page weight budget: the built page client (pkg/browser.js, the page entry bundled with the glue,
// + pkg/singing_cloning_bg.wasm, gzip -9, each file on its own) must not grow past the budget
// recorded in bench/budget.json. Measured by bench/weight.mjs `pageWeight`, the same function
// `npm run bench` reports (item 1), so there is one way to measure it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageWeight, readBudget, PAGE_FILES } from '../../bench/weight.mjs';

test('the page build stays within its size budget (bench/budget.json)', () => {
  const budget = readBudget();
  assert.ok(
    Number.isInteger(budget.pageWeightGzipBytes) && budget.pageWeightGzipBytes > 0,
    'bench/budget.json has no pageWeightGzipBytes',
  );
  const weight = pageWeight();
  const kb = (n) => `${n.toLocaleString('en-US')} B (${(n / 1000).toFixed(1)} KB)`;
  const byFile = weight.files.map((f) => `${f.name} ${kb(f.gzip)}`).join(', ');
  assert.ok(
    weight.gzip <= budget.pageWeightGzipBytes,
    `page weight ${kb(weight.gzip)} gzip is over the budget of ` +
      `${kb(budget.pageWeightGzipBytes)} in bench/budget.json ` +
      `(goal ${kb(budget.goalGzipBytes)}, stretch ${kb(budget.stretchGzipBytes)}); by file: ${byFile}. ` +
      `Shrink the page build, or raise the budget in bench/budget.json on purpose.`,
  );
  assert.equal(weight.files.length, PAGE_FILES.length);
});
