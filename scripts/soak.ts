// npm run soak -- [--minutes 30] [--concurrency 16] [--sample-s 10] [--seed N] [--out soak-results.json]
//
// Load (issue #8, point 5): the real server as a child process (src/server.ts, with the fake
// Discord, SMTP and Telegram in this process) under a steady, moderate mixed load from
// support/load.ts: list pages, search, ticket pages, downloads, creates with attachments, replies,
// staff answers, game relays (and their request_id replays, and logouts that close tickets and
// delete channels), staff messages in Discord, and a game server long-polling and acking whispers.
// The server's resident memory (VmRSS from /proc/<pid>/status) is sampled every --sample-s seconds.
//
// Pass when:
//   - no error answer: no 5xx, no 4xx that a valid request should not get, no cut connection,
//     no error line in the server's log, and the server stops cleanly (exit 0) at the end;
//   - memory stays bounded: the highest RSS of the last third of the run is at most
//     max(1.25 x the peak of the first third, that peak + 40 MiB). The first third includes the
//     warm-up (JIT, caches, SQLite page cache filling), so the rule catches growth that keeps going,
//     not the one-off climb to a working set.
// Prints a table of the samples and writes them with the counts to --out.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createEnvironment, killServersOnSignal, LoadGenerator, sleep, SOAK_MIX, startServerProcess } from '../support/load.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '16' },
    'sample-s': { type: 'string', default: '10' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'soak-results.json' },
  },
});
const minutes = Number(args.minutes);
const concurrency = Number(args.concurrency);
const sampleS = Number(args['sample-s']);
if (!(minutes > 0) || !Number.isSafeInteger(concurrency) || concurrency < 1 || !(sampleS > 0)) {
  console.error('soak: --minutes and --sample-s must be positive numbers, --concurrency a positive whole number');
  process.exit(2);
}
killServersOnSignal();
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
const MiB = 1024 * 1024;

interface Sample {
  atS: number;
  rssMiB: number;
  requests: number;
  /** Requests per second since the previous sample. */
  rps: number;
  errors: number;
}

const env = await createEnvironment({ players: 8, chars: 6, whisperVisibilityS: 5 });
console.log(`soak: ${minutes} min, ${concurrency} loops, seed ${seed}, files in ${env.dir}`);
const server = await startServerProcess(env);
const gen = new LoadGenerator(env, { concurrency, mix: SOAK_MIX, pauseMs: [150, 350], seed, whisperWaitS: 5, maxRepliesPerTicket: 30 });
const samples: Sample[] = [];
let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
const started = Date.now();
const errorCount = () => gen.ledger.errorAnswers.length + gen.ledger.violations.length + Object.values(gen.ledger.counts).reduce((n, row) => n + (row.neterr ?? 0), 0);
try {
  await gen.signIn();
  const take = () => {
    const requests = gen.ledger.totalRequests();
    const atS = (Date.now() - started) / 1000;
    const previous = samples.at(-1);
    const rss = server.rssBytes();
    const sample: Sample = {
      atS: Math.round(atS),
      rssMiB: rss === undefined ? NaN : Math.round((rss / MiB) * 10) / 10,
      requests,
      rps: previous ? Math.round(((requests - previous.requests) / Math.max(atS - previous.atS, 0.001)) * 10) / 10 : 0,
      errors: errorCount(),
    };
    samples.push(sample);
    console.log(`  ${String(sample.atS).padStart(5)} s  RSS ${sample.rssMiB.toFixed(1).padStart(7)} MiB  ${String(sample.requests).padStart(7)} requests  ${sample.rps.toFixed(1).padStart(6)}/s  ${sample.errors} errors`);
  };
  take();
  gen.start();
  const end = started + minutes * 60_000;
  while (Date.now() < end) {
    await sleep(Math.min(sampleS * 1000, end - Date.now()));
    take();
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      console.log('soak: the server exited during the run');
      break;
    }
  }
  await gen.stop();
  await gen.stopPoller();
  const health = await fetch(`${env.url}/healthz`).then((r) => r.status, () => 0);
  if (health !== 200) gen.ledger.violations.push(`/healthz answered ${health} after the run`);
  exit = await server.stop();
} finally {
  await gen.stop();
  await gen.stopPoller();
  if (exit === undefined && server.child.exitCode === null) await server.kill9();
}

// --- verdict
const problems: string[] = [];
const counts = gen.ledger.counts;
for (const e of gen.ledger.errorAnswers.slice(0, 20)) problems.push(`${e.op} answered ${e.status}: ${e.detail}`);
if (gen.ledger.errorAnswers.length > 20) problems.push(`... and ${gen.ledger.errorAnswers.length - 20} more error answers`);
for (const v of gen.ledger.violations.slice(0, 20)) problems.push(v);
const cut = Object.values(counts).reduce((n, row) => n + (row.neterr ?? 0), 0);
if (cut > 0) problems.push(`${cut} requests failed at the connection level`);
for (const line of server.errorLines.slice(0, 10)) problems.push(`server error log: ${line.slice(0, 300)}`);
for (const id of gen.ledger.lateConflicts) if (!gen.ledger.closedGameTickets.has(id)) problems.push(`a staff answer to game ticket ${id} got 409, yet no logout closed it`);
if (exit?.code !== 0) problems.push(`the server did not stop cleanly (exit code ${exit?.code}, signal ${exit?.signal})`);

const valid = samples.filter((s) => Number.isFinite(s.rssMiB));
const duration = valid.at(-1)?.atS ?? 0;
const firstThird = valid.filter((s) => s.atS <= duration / 3);
const lastThird = valid.filter((s) => s.atS >= (2 * duration) / 3);
const firstPeak = Math.max(...firstThird.map((s) => s.rssMiB));
const lastPeak = Math.max(...lastThird.map((s) => s.rssMiB));
const bound = Math.max(firstPeak * 1.25, firstPeak + 40);
const memoryOk = firstThird.length > 0 && lastThird.length > 0 && lastPeak <= bound;
if (!memoryOk) problems.push(`memory: last third peaked at ${lastPeak} MiB, above the bound ${bound.toFixed(1)} MiB (first third peak ${firstPeak} MiB)`);

const totalRequests = gen.ledger.totalRequests();
const byStatus: Record<string, number> = {};
for (const row of Object.values(counts)) for (const [status, n] of Object.entries(row)) byStatus[status] = (byStatus[status] ?? 0) + n;
const results = {
  ok: problems.length === 0,
  seed,
  minutes,
  concurrency,
  sampleSeconds: sampleS,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  requests: totalRequests,
  requestsPerSecond: Math.round((totalRequests / Math.max(duration, 1)) * 10) / 10,
  byStatus,
  byOperation: counts,
  acknowledgedWrites: gen.ledger.acknowledged(),
  whispersDelivered: gen.ledger.whispers.size,
  emails: env.smtp.messages.length,
  telegrams: env.telegram.sent.length,
  gameTicketsClosedByLogout: gen.ledger.closedGameTickets.size,
  memory: { rule: 'last-third peak <= max(1.25 x first-third peak, first-third peak + 40 MiB)', firstThirdPeakMiB: firstPeak, lastThirdPeakMiB: lastPeak, boundMiB: Math.round(bound * 10) / 10, ok: memoryOk },
  problems,
  samples,
};
fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
await env.close();

console.log('');
console.log(`requests      ${totalRequests} in ${duration} s (${results.requestsPerSecond}/s), by status: ${Object.entries(byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
console.log(`by operation  ${Object.entries(counts).map(([op, row]) => `${op} ${Object.values(row).reduce((a, b) => a + b, 0)}`).join(', ')}`);
console.log(`delivered     ${results.whispersDelivered} whispers, ${results.emails} emails, ${results.telegrams} Telegram messages; ${results.gameTicketsClosedByLogout} game tickets closed by logout`);
console.log(`memory        first third peak ${firstPeak} MiB, last third peak ${lastPeak} MiB, bound ${bound.toFixed(1)} MiB: ${memoryOk ? 'ok' : 'GROWING'}`);
console.log(`results       ${args.out}`);
if (problems.length > 0) {
  console.log(`\nFAIL: ${problems.length} problem(s)`);
  for (const p of problems) console.log(`  - ${p}`);
  process.exit(1);
}
console.log('\nPASS: no error answers, memory bounded');
