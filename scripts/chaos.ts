// npm run test:chaos -- [--rounds 20] [--seed N] [--concurrency 6] [--min-ms 1500] [--max-ms 4000] [--keep]
//
// The seed is --seed, else CHAOS_SEED, else a random one; it is printed first, whatever happens.
//
// Crash durability (issue #8, point 1): the real server under mixed load, `kill -9` at random
// moments and started again on the same files, `--rounds` times; then a last clean start, the
// queues drained, a graceful stop, and every acknowledged request checked (support/chaos.ts
// says exactly what is checked). Prints the figures; exit code 1 on any failure.
import { parseArgs } from 'node:util';
import { chaosSeed, formatFigures, runChaos } from '../support/chaos.js';
import { killServersOnSignal } from '../support/load.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '6' },
    'min-ms': { type: 'string', default: '1500' },
    'max-ms': { type: 'string', default: '4000' },
    keep: { type: 'boolean', default: false },
  },
});
const numbers = { rounds: Number(args.rounds), concurrency: Number(args.concurrency), minMs: Number(args['min-ms']), maxMs: Number(args['max-ms']) };
for (const [name, value] of Object.entries(numbers)) {
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`chaos: --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive whole number`);
    process.exit(2);
  }
}
killServersOnSignal();
const seed = args.seed === undefined ? chaosSeed() : Number(args.seed);
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error('chaos: --seed must be a whole number');
  process.exit(2);
}
console.log(`chaos: seed ${seed}`);

const report = await runChaos({
  rounds: numbers.rounds,
  seed,
  concurrency: numbers.concurrency,
  roundMs: [numbers.minMs, Math.max(numbers.minMs, numbers.maxMs)],
  keepDir: args.keep,
  log: (line) => console.log(line),
});
console.log('');
console.log(formatFigures(report.figures));
for (const note of report.notes) console.log(`note: ${note}`);
if (report.failures.length > 0) {
  console.log(`\nFAIL (seed ${seed}): ${report.failures.length} problem(s)`);
  for (const failure of report.failures) console.log(`  - ${failure}`);
  process.exit(1);
}
console.log(`\nPASS (seed ${seed}): every acknowledged request stored exactly once after ${report.figures.kills} kills`);
