// Runs every test/**/*.test.ts file with node's test runner and tsx (Node 20's --test has no globs).
// Extra arguments narrow the run: `npm test -- test/unit` or `npm test -- test/unit/config.test.ts`;
// options go to node (a later `--test-timeout=<ms>` replaces the default below).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function collect(target) {
  const stat = fs.statSync(target);
  if (stat.isFile()) return [target];
  return fs
    .readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return entry.name === 'fakes' ? [] : collect(full);
      return entry.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

/**
 * A hung test must fail with a message, not hold CI until its job is killed. On Node 20 (checked
 * on v20.20: `node --test --test-timeout`) the runner applies this bound to each test FILE, which
 * runs in its own child process: the child is stopped and the file reported as "test timed out
 * after ... ms". Node 20 does not hand the value on to the tests inside the child, so a test that
 * needs a bound of its own sets `{ timeout }` (test/chaos/chaos.test.ts does). On two cores the
 * slowest tests take under 30 s and the whole suite about five minutes; the own timeouts of
 * test/chaos/chaos.test.ts add up to 330 s, so ten minutes a file leaves them room and still ends
 * a hang.
 */
const FILE_TIMEOUT_MS = 600_000;

const args = process.argv.slice(2);
const options = args.filter((arg) => arg.startsWith('--'));
const targets = args.filter((arg) => !arg.startsWith('--'));
const files = (targets.length > 0 ? targets : ['test']).flatMap(collect);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${FILE_TIMEOUT_MS}`, ...options, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
