// npm run bench -- [--tickets N] [--messages M] [--keep DB] [--seconds S] [--warmup S] [--connections C]
//                  [--only REGEX] [--profile DIR]
// --only runs the measurements whose name matches; --profile writes the measured server's CPU
// profile (node --cpu-prof) to DIR, to open in Chrome DevTools.
//
// Builds (or, with --keep and a matching file, reuses) a database of N tickets and M messages,
// starts the real app on it the way `npm start` does (compiled dist/server.js, its own process),
// loads it over HTTP from another process (autocannon), measures the bare Express + EJS ceiling
// the same way, and prints one table (also written to bench-results.json). Targets are those of
// issue #7, stated at 1,000,000 tickets / 5,000,000 messages; a miss is printed as MISS.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/index.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { Client } from '../support/client.js';
import { startFakeDiscord } from '../support/fakes/discord.js';
import { childEnv, launchServer, TSX, type ServerProcess } from '../support/server.js';
import { generateDatabase, BENCH_PASSWORD, HEAVY_PLAYER, SEARCH_WORDS, type BenchFacts } from './generate.js';
import type { LoadResult, LoadSpec } from './load.js';

const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '200000' },
    messages: { type: 'string', default: '1000000' },
    keep: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    whispers: { type: 'string', default: '200' },
    only: { type: 'string' },
    profile: { type: 'string' },
  },
});
const TICKETS = Number(args.tickets);
const MESSAGES = Number(args.messages);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const WHISPER_ROUNDS = Number(args.whispers);
for (const [name, value] of Object.entries({ tickets: TICKETS, messages: MESSAGES, seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS, whispers: WHISPER_ROUNDS })) {
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`bench: --${name} must be a whole number`);
    process.exit(2);
  }
}
const GAME_TOKEN = 'bench-game-token-0123456789abcdef';
const log = (line: string) => console.log(line);

// ---------------------------------------------------------------------------------------------
// The database

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-bench-'));
const dbFile = path.resolve(args.keep ?? path.join(workDir, 'bench.db'));
const factsFile = `${dbFile}.bench.json`;
let facts: BenchFacts | undefined;
if (fs.existsSync(dbFile) && fs.existsSync(factsFile)) {
  const saved = JSON.parse(fs.readFileSync(factsFile, 'utf8')) as BenchFacts;
  if (saved.tickets === TICKETS && saved.messages === MESSAGES) {
    facts = saved;
    log(`bench: reusing ${dbFile} (${TICKETS.toLocaleString('en')} tickets, ${MESSAGES.toLocaleString('en')} messages, built in ${saved.buildSeconds.toFixed(0)} s)`);
  } else {
    console.error(`bench: ${dbFile} holds ${saved.tickets} tickets / ${saved.messages} messages, not ${TICKETS} / ${MESSAGES}; remove it or pass another --keep`);
    process.exit(2);
  }
} else if (fs.existsSync(dbFile)) {
  console.error(`bench: ${dbFile} exists but was not built by the bench (no ${path.basename(factsFile)}); pass another --keep`);
  process.exit(2);
}
if (!facts) {
  log(`bench: building ${dbFile}: ${TICKETS.toLocaleString('en')} tickets, ${MESSAGES.toLocaleString('en')} messages`);
  facts = await generateDatabase({ file: dbFile, tickets: TICKETS, messages: MESSAGES, log });
  fs.writeFileSync(factsFile, JSON.stringify(facts, null, 2));
  log(`bench: built in ${facts.buildSeconds.toFixed(0)} s, ${(fs.statSync(dbFile).size / 1e9).toFixed(2)} GB`);
}
const F = facts;

// Every run works on a copy, so a kept database stays as built and runs compare: the relays,
// sessions and whispers of one run would otherwise sit at the top of the next run's lists.
const runFile = path.join(workDir, 'run.db');
if (args.keep) {
  log('bench: copying the kept database for this run');
  fs.copyFileSync(dbFile, runFile);
} else {
  fs.renameSync(dbFile, runFile);
}

// ---------------------------------------------------------------------------------------------
// The fake Discord on loopback, with a channel for every open game ticket

const fake = await startFakeDiscord({ channelRenameLimit: false, enforcePermissions: false });
const staffRoleId = fake.addStaffRole('Support');
const staffMemberId = '400000000000000001';
fake.addMember(staffMemberId, 'GM Bench', [staffRoleId]);
// Discord allows 50 channels a category: the bridge's own overflow names are Tickets, Tickets 2, ...
const categories = [fake.addChannel({ name: 'Tickets', type: 4 })];
const category = categories[0]!;
{
  const { db } = openDatabase(runFile);
  const remap = db.prepare('UPDATE tickets SET discord_channel_id = ?, discord_guild_id = ? WHERE id = ?');
  db.prepare("UPDATE tickets SET discord_channel_id = NULL WHERE discord_channel_id IS NOT NULL AND status = 'closed'").run();
  db.transaction(() => {
    for (const [i, game] of F.gameTickets.entries()) {
      if (i > 0 && i % 50 === 0) categories.push(fake.addChannel({ name: `Tickets ${categories.length + 1}`, type: 4 }));
      const channel = fake.addChannel({ name: `ticket-${game.name.toLowerCase().replace(/\s+/g, '-')}`, parent_id: categories.at(-1)!.id });
      remap.run(null, null, game.ticketId);
      remap.run(channel.id, fake.guildId, game.ticketId);
      game.channelId = channel.id;
    }
  })();
  // The bench's own leftovers from an earlier run (--keep): whispers and Discord work already done.
  db.prepare('UPDATE game_whispers SET acked_at = ? WHERE acked_at IS NULL').run(Date.now());
  db.prepare('UPDATE discord_outbox SET done_at = ? WHERE done_at IS NULL').run(Date.now());
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

// ---------------------------------------------------------------------------------------------
// Processes

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

log('bench: compiling (npm run build)');
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const uploadsDir = path.join(workDir, 'uploads');
const serverEnv = {
  PORT: String(port),
  HOST: '127.0.0.1',
  DATABASE_PATH: runFile,
  UPLOADS_DIR: uploadsDir,
  TZ: 'UTC',
  GAME_API_TOKEN: GAME_TOKEN,
  DISCORD_TOKEN: fake.token,
  DISCORD_GUILD_ID: fake.guildId,
  DISCORD_API_URL: fake.apiUrl,
  DISCORD_STAFF_ROLE_IDS: staffRoleId,
  DISCORD_TICKET_CATEGORY_ID: category.id,
  LOG_LEVEL: 'warn',
};

/** The compiled server (support/server.ts); ready when /healthz answers, as warn hides "listening on". */
async function startServer(): Promise<{ server: ServerProcess; startMs: number }> {
  const started = performance.now();
  const server = launchServer({ cwd: PROJECT_ROOT, env: serverEnv, built: true, nodeFlags, healthUrl: base, keepChars: 65536 });
  server.child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  await server.url;
  return { server, startMs: performance.now() - started };
}

async function stopServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null) return;
  await server.stop(120_000); // SIGTERM; SIGKILL only if it hangs
}

let nodeFlags: string[] = [];
// Start-up time: the median of three cold-ish starts (the first also pays the page cache).
log('bench: measuring start-up');
const startTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  const { server, startMs } = await startServer();
  startTimes.push(startMs);
  await stopServer(server);
}
startTimes.sort((a, b) => a - b);
if (args.profile) nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`];
const { server } = await startServer();
const serverPid = server.pid;
let peakRss = rssMb(serverPid);
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, rssMb(serverPid));
}, 100);

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
await waitFor('the Discord bridge', async () => {
  const response = await fetch(`${base}/healthz`);
  const body = (await response.json()) as { integrations?: { discord?: { state?: string } } };
  return body.integrations?.discord?.state === 'ready';
});

// Sign in as a browser would; the session cookie then goes with every load request.
async function signIn(username: string): Promise<string> {
  const client = new Client(base);
  const answer = await client.login(username, BENCH_PASSWORD);
  if (answer.status !== 303) throw new Error(`bench: sign-in as ${username} answered ${answer.status}`);
  return client.cookieHeader();
}
const playerCookie = await signIn(HEAVY_PLAYER);
const staffCookie = await signIn(F.staffUsername);

function load(spec: Omit<LoadSpec, 'connections' | 'warmupSeconds' | 'seconds'>): Promise<LoadResult> {
  const full: LoadSpec = { connections: CONNECTIONS, warmupSeconds: WARMUP, seconds: SECONDS, ...spec };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'bench/load.ts'), JSON.stringify(full)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited with ${code}`))));
  });
}

/** Fetches a page once to check it is what we think we measure. */
async function probe(url: string, cookie: string, expect: RegExp): Promise<void> {
  const response = await fetch(url, { headers: { cookie } });
  const text = await response.text();
  if (response.status !== 200 || !expect.test(text)) throw new Error(`bench: ${url} answered ${response.status} without ${expect}`);
}

const list = (params: Record<string, string>) => `${base}/index.php?${new URLSearchParams({ view: 'tickets', ...params }).toString()}`;
interface Row {
  name: string;
  result: LoadResult;
  /** Which targets apply: rps ratio, p50 and p99 limits (ms), minimum req/s. */
  target?: { p50?: number; p99?: number; rps?: number };
}
const rows: Row[] = [];
const only = args.only ? new RegExp(args.only, 'i') : undefined;
const wanted = (name: string) => only === undefined || only.test(name);
const skipped: LoadResult = { requests: 0, rps: 0, p50: 0, p90: 0, p99: 0, max: 0, errors: 0, non2xx: 0, bytesPerRequest: 0 };
async function measure(name: string, url: string, cookie: string, expect: RegExp, target?: Row['target']): Promise<LoadResult> {
  if (!wanted(name)) return skipped;
  await probe(url, cookie, expect);
  log(`bench: ${name}`);
  const result = await load({ url, headers: { cookie } });
  rows.push({ name, result, ...(target ? { target } : {}) });
  return result;
}

const aRow = /<tr data-ticket-id="\d+"/;
const playerList = await measure('player list (default filter)', list({}), playerCookie, aRow, { p99: 50 });
await measure(`player list, created ${F.dateFrom}..${F.dateTo}`, list({ date_from: F.dateFrom, date_to: F.dateTo }), playerCookie, aRow, { p99: 50 });
await measure(`player search "${SEARCH_WORDS[0]}"`, list({ q: SEARCH_WORDS[0]! }), playerCookie, aRow, { p50: 20, p99: 100 });
await measure('staff list, all tickets', list({ status: 'all' }), staffCookie, aRow, { p99: 100 });
await measure('staff queue (default filter)', list({}), staffCookie, aRow, { p99: 100 });
for (const word of SEARCH_WORDS) await measure(`staff search "${word}"`, list({ status: 'all', q: word }), staffCookie, aRow, { p50: 20, p99: 100 });
await measure(`ticket page, 200 messages`, `${base}/index.php?view=ticket&id=${F.longTicketId}`, playerCookie, /data-ticket-id/, { p99: 100 });
// view=stats (issue #18): every figure of the page over a range, from the covering indexes of
// migration 011; the percentiles sort the range's index entries in SQLite (src/db/stats.ts).
const stats = (params: Record<string, string>) => `${base}/index.php?${new URLSearchParams({ view: 'stats', ...params }).toString()}`;
const aFigure = /data-stat="opened-total"/;
await measure('stats page, last 30 days', stats({}), staffCookie, aFigure);
await measure(`stats page, ${F.dateFrom}..${F.dateTo}`, stats({ from: F.dateFrom, to: F.dateTo }), staffCookie, aFigure);
await measure(`stats CSV, ${F.dateFrom}..${F.dateTo}`, stats({ from: F.dateFrom, to: F.dateTo, format: 'csv' }), staffCookie, /^\ufeff?"section","metric","value"/);

/** The ceiling, measured the same way while our server idles. */
async function measureCeiling(): Promise<LoadResult> {
  const ceilingPort = await freePort();
  const ceiling = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'bench/ceiling.ts'), runFile, String(F.heavyUserId), String(ceilingPort)], {
    cwd: PROJECT_ROOT,
    env: childEnv({ ...serverEnv, PORT: String(ceilingPort) }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => ceiling.stdout!.once('data', () => resolve()));
  log('bench: ceiling (bare Express + EJS, same page from memory)');
  const result = await load({ url: `http://127.0.0.1:${ceilingPort}/index.php?view=tickets` });
  ceiling.kill('SIGTERM');
  rows.push({ name: 'ceiling: bare Express + EJS, same 50 rows', result });
  return result;
}
const ceilingResult = wanted('ceiling') ? await measureCeiling() : skipped;

/**
 * Game relays into existing tickets: each is a message stored and a Discord post queued. Then the
 * posts must all reach the fake Discord (consecutive posts of a ticket may share one message):
 * how long the outbox takes to drain is printed, not a target.
 */
async function measureRelays(): Promise<{ relays: LoadResult; drainSeconds: number }> {
  const bodiesFile = path.join(workDir, 'relays.json');
  fs.writeFileSync(
    bodiesFile,
    JSON.stringify(
      Array.from({ length: 5000 }, (_, i) => {
        const game = F.gameTickets[i % F.gameTickets.length]!;
        return JSON.stringify({ action: 'ticket', via: 'pm', account_id: game.accountId, char_id: game.charId, name: game.name, message: `bench relay ${i}: still waiting for my item` });
      }),
    ),
  );
  log('bench: game relays');
  const relays = await load({ url: `${base}/api/game/actions`, method: 'POST', headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' }, bodiesFile });
  rows.push({ name: 'game relays into open tickets', result: relays, target: { rps: 3000 } });
  const drainStarted = Date.now();
  const reader = openDatabase(runFile, { migrate: false }).db;
  const pending = () => (reader.prepare('SELECT COUNT(*) AS n FROM discord_outbox WHERE done_at IS NULL').get() as { n: number }).n;
  await waitFor('the Discord outbox to drain', () => pending() === 0, 600_000).catch((err: Error) => log(`bench: ${err.message}`));
  reader.close();
  return { relays, drainSeconds: (Date.now() - drainStarted) / 1000 };
}
const { drainSeconds } = wanted('game relays') ? await measureRelays() : { drainSeconds: 0 };

// Whisper latency: a staff message in Discord until a waiting long poll returns it.
log('bench: whisper latency');
const whisperLatencies: number[] = [];
const auth = { authorization: `Bearer ${GAME_TOKEN}` };
for (let i = 0; i < (wanted('whisper') ? WHISPER_ROUNDS : 0); i++) {
  const game = F.gameTickets[i % F.gameTickets.length]!;
  const poll = fetch(`${base}/api/game/whispers?wait=10&limit=50`, { headers: auth });
  await new Promise((resolve) => setTimeout(resolve, 15));
  const sent = performance.now();
  fake.userSays(game.channelId, { userId: staffMemberId, content: `whisper ${i}: your item is restored`, force: true });
  const response = await poll;
  const received = performance.now();
  const body = (await response.json()) as { whispers: { id: number; text: string }[] };
  if (!body.whispers.some((w) => w.text.includes(`whisper ${i}:`))) throw new Error(`bench: whisper ${i} did not arrive in its long poll: ${JSON.stringify(body)}`);
  whisperLatencies.push(received - sent);
  const ack = await fetch(`${base}/api/game/whispers/ack`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ids: body.whispers.map((w) => w.id) }) });
  await ack.arrayBuffer();
}
whisperLatencies.sort((a, b) => a - b);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

clearInterval(sampler);
await new Promise((resolve) => setTimeout(resolve, 5000));
const idleRss = rssMb(serverPid);
await stopServer(server);
await fake.stop();

// ---------------------------------------------------------------------------------------------
// The table

const atScale = TICKETS >= 1_000_000 && MESSAGES >= 5_000_000;
const verdicts: string[] = [];
function verdict(ok: boolean, what: string): string {
  if (!ok) verdicts.push(what);
  return ok ? 'ok' : 'MISS';
}
const ms = (n: number) => n.toFixed(n < 10 ? 1 : 0).padStart(6);
const lines: string[] = [];
lines.push('');
lines.push(`ticketbridge bench: ${TICKETS.toLocaleString('en')} tickets, ${MESSAGES.toLocaleString('en')} messages, ${F.players.toLocaleString('en')} players; ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s measured; ${os.cpus().length} CPUs, node ${process.version}`);
lines.push(`search words, share of messages containing them: ${Object.entries(F.searchWords).map(([w, share]) => `"${w}" ${(share * 100).toFixed(2)}%`).join(', ')}`);
lines.push('');
lines.push(`${'measurement'.padEnd(52)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(6)} ${'p99 ms'.padStart(6)}  target`);
for (const row of rows) {
  const { result, target } = row;
  const parts: string[] = [];
  if (target?.p50 !== undefined) parts.push(`p50<=${target.p50} ${verdict(result.p50 <= target.p50, `${row.name} p50`)}`);
  if (target?.p99 !== undefined) parts.push(`p99<=${target.p99} ${verdict(result.p99 <= target.p99, `${row.name} p99`)}`);
  if (target?.rps !== undefined) parts.push(`>=${target.rps}/s ${verdict(result.rps >= target.rps, `${row.name} req/s`)}`);
  if (result.errors > 0 || result.non2xx > 0) parts.push(verdict(false, `${row.name}: ${result.errors} errors, ${result.non2xx} non-2xx`) + ` (${result.errors} errors, ${result.non2xx} non-2xx)`);
  lines.push(`${row.name.padEnd(52)} ${result.rps.toFixed(0).padStart(8)} ${ms(result.p50)} ${ms(result.p99)}  ${parts.join(', ')}`);
}
const ratio = playerList.rps / ceilingResult.rps;
lines.push(`${'player list req/s as a share of the ceiling'.padEnd(52)} ${ratio.toFixed(2).padStart(8)} ${''.padStart(6)} ${''.padStart(6)}  >=0.6 ${verdict(ratio >= 0.6, 'list/ceiling ratio')}`);
lines.push(
  `${'whisper latency, Discord -> waiting long poll'.padEnd(52)} ${''.padStart(8)} ${ms(pct(whisperLatencies, 50))} ${ms(pct(whisperLatencies, 99))}  p99<=50 ${verdict(pct(whisperLatencies, 99) <= 50, 'whisper p99')} (${whisperLatencies.length} whispers)`,
);
lines.push(`${'Discord posts of the relays drained in'.padEnd(52)} ${`${drainSeconds.toFixed(1)} s`.padStart(8)}`);
lines.push(`${'peak RSS under load'.padEnd(52)} ${`${peakRss.toFixed(0)} MB`.padStart(8)} ${''.padStart(13)}  <=200 MB ${verdict(peakRss <= 200, 'peak RSS')}`);
lines.push(`${'RSS idle (5 s after load)'.padEnd(52)} ${`${idleRss.toFixed(0)} MB`.padStart(8)}`);
lines.push(`${'start to healthy /healthz (median of 3)'.padEnd(52)} ${`${(startTimes[1]! / 1000).toFixed(2)} s`.padStart(8)} ${''.padStart(13)}  <=1.5 s ${verdict(startTimes[1]! <= 1500, 'start to healthy')}`);
lines.push('');
if (!atScale) lines.push('note: the targets are stated at 1,000,000 tickets / 5,000,000 messages; this run is smaller.');
lines.push(verdicts.length === 0 ? 'all targets met' : `targets missed: ${verdicts.join('; ')}`);
log(lines.join('\n'));

const results = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 1e9), node: process.version },
  dataset: { tickets: TICKETS, messages: MESSAGES, players: F.players, heavyPlayerTickets: F.heavyTickets, searchWords: F.searchWords, buildSeconds: F.buildSeconds },
  load: { connections: CONNECTIONS, warmupSeconds: WARMUP, seconds: SECONDS },
  rows: rows.map((row) => ({ name: row.name, ...row.result, target: row.target })),
  listCeilingRatio: ratio,
  whisperLatencyMs: { p50: pct(whisperLatencies, 50), p99: pct(whisperLatencies, 99), count: whisperLatencies.length },
  discordDrainSeconds: drainSeconds,
  rssMb: { peakUnderLoad: peakRss, idle: idleRss },
  startToHealthyMs: startTimes,
  missed: verdicts,
};
fs.writeFileSync(path.join(PROJECT_ROOT, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
// The run's copy goes; a --keep database (outside workDir) stays as it was built.
fs.rmSync(workDir, { recursive: true, force: true });
process.exit(0);
