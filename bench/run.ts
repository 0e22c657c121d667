// npm run bench -- [--quick] [--tickets N] [--messages M] [--keep DB] [--seconds S] [--warmup S]
//                  [--window S] [--pairs P] [--connections C] [--whispers N] [--only REGEX]
//                  [--profile DIR] [--heap-snapshot DIR]
//
// Builds (or, with --keep and a matching file, reuses) a database of N tickets and M messages,
// starts the real app on it the way `npm start` does (compiled dist/server.js, its own process),
// loads it over HTTP from another process (bench/load.ts, autocannon) and prints one table (also
// written to bench-results.json, with every window's own figures). Targets are those of issues #7
// and #19, stated at 1,000,000 tickets / 5,000,000 messages; a miss is printed as MISS.
//
// Ratios are measured fairly (issue #19): the page under test and its yardstick take turns in short
// windows, A B A B ... (--pairs P of --window S seconds, after one warm-up of each), from one load
// process, and the ratio printed is the median of the P pairwise ratios with their spread, so a
// neighbour that wakes up during one window moves one pair, not the whole figure. Two ratios:
// the player list against the ceiling (bench/ceiling.ts: bare Express + EJS rendering the same page
// from memory, checked to be as many bytes; both servers stay up, the idle one idles), and the
// staff search for each bench word at C connections against the player list. The list/ceiling
// ratio runs when --only matches either side or the ratio's name; a search ratio when it matches the
// search or the ratio's name (the list is only its yardstick); one not run says so. Other rows are
// one window of --seconds after --warmup; the search words also at 1 connection (p50 <= 10 ms). The
// `windows` column says what each figure stands on; a figure over several windows is their median.
// The game relays are measured with the fake Discord's answers held (see measureRelays).
//
// --quick: the main rows only (player list and its ratio, the most common word's search ratio,
// every search word at 1 connection, relays, RSS, start-up; no whispers), 2 s warm-ups and 5 s
// windows; meant for `npm run bench -- --quick --keep FILE` at the default 200,000 tickets /
// 1,000,000 messages (a few minutes once FILE exists). The reference is the full run at 1,000,000.
// --profile DIR: the measured server's CPU profile (node --cpu-prof), to open in Chrome DevTools.
// --heap-snapshot DIR: after the measured rows, one more window of the load under which the
// server's RSS peaked (the RSS MB column), near whose end the server writes a V8 heap snapshot
// into DIR (node --heapsnapshot-signal=SIGUSR1; SIGUSR2 is the app's "back up now").
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/index.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { Client } from '../support/client.js';
import { startFakeDiscord } from '../support/fakes/discord.js';
import { childEnv, launchServer, startScriptNodeFlags, TSX, type ServerProcess } from '../support/server.js';
import { generateDatabase, BENCH_PASSWORD, HEAVY_PLAYER, SEARCH_WORDS, type BenchFacts } from './generate.js';
import type { LoadEvent, LoadPlan, LoadResult, LoadTarget, LoadWindow } from './load.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tickets: { type: 'string', default: '200000' },
    messages: { type: 'string', default: '1000000' },
    keep: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    window: { type: 'string' },
    pairs: { type: 'string' },
    connections: { type: 'string', default: '16' },
    whispers: { type: 'string', default: '200' },
    only: { type: 'string' },
    profile: { type: 'string' },
    'heap-snapshot': { type: 'string' },
  },
});
const QUICK = args.quick === true;
const TICKETS = Number(args.tickets);
const MESSAGES = Number(args.messages);
const SECONDS = Number(args.seconds ?? (QUICK ? 5 : 10));
const WARMUP = Number(args.warmup ?? (QUICK ? 2 : 3));
const WINDOW = Number(args.window ?? 4);
const PAIRS = Number(args.pairs ?? 5);
const CONNECTIONS = Number(args.connections);
const WHISPER_ROUNDS = QUICK ? 0 : Number(args.whispers);
for (const [name, value] of Object.entries({ tickets: TICKETS, messages: MESSAGES, seconds: SECONDS, warmup: WARMUP, window: WINDOW, pairs: PAIRS, connections: CONNECTIONS, whispers: WHISPER_ROUNDS })) {
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`bench: --${name} must be a whole number`);
    process.exit(2);
  }
}
if (SECONDS < 1 || WINDOW < 1 || PAIRS < 1 || CONNECTIONS < 1) {
  console.error('bench: --seconds, --window, --pairs and --connections must be at least 1');
  process.exit(2);
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
  // A kept file may be read-only (shared between benches), and one opened by someone else may
  // hold committed pages in its write-ahead log, which belong to the copy.
  fs.chmodSync(runFile, 0o644);
  if (fs.existsSync(`${dbFile}-wal`) && fs.statSync(`${dbFile}-wal`).size > 0) fs.copyFileSync(`${dbFile}-wal`, `${runFile}-wal`);
  if (fs.existsSync(`${runFile}-wal`)) fs.chmodSync(`${runFile}-wal`, 0o644);
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

// A bench that fails half-way must not leave its servers running, nor its copy of the database.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(workDir, { recursive: true, force: true });
});

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
  children.add(server.child);
  server.child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  await server.url;
  return { server, startMs: performance.now() - started };
}

async function stopServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null) return;
  await server.stop(120_000); // SIGTERM; SIGKILL only if it hangs
}

const nodeFlags: string[] = [];
// Start-up time: the median of three cold-ish starts (the first also pays the page cache).
log('bench: measuring start-up');
const startTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  const { server, startMs } = await startServer();
  startTimes.push(startMs);
  await stopServer(server);
}
startTimes.sort((a, b) => a - b);
if (args.profile) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`);
const heapDir = args['heap-snapshot'] ? path.resolve(args['heap-snapshot']) : undefined;
if (heapDir) {
  fs.mkdirSync(heapDir, { recursive: true });
  nodeFlags.push('--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${heapDir}`);
}
const { server } = await startServer();
const serverPid = server.pid;
// The server's RSS, sampled every 100 ms: over the whole run, and over each measurement.
let peakRss = rssMb(serverPid);
let measurementPeakRss = 0;
let sampling = true;
const sampler = setInterval(() => {
  if (!sampling) return;
  const now = rssMb(serverPid);
  peakRss = Math.max(peakRss, now);
  measurementPeakRss = Math.max(measurementPeakRss, now);
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

// ---------------------------------------------------------------------------------------------
// Load plans

interface WindowFigures extends LoadResult {
  target: string;
  warmup: boolean;
}

/**
 * Runs one plan in one load process (bench/load.ts) and returns every window's figures, warm-ups
 * included (flagged). `onStart` hears each window start, while the load runs.
 */
function runPlan(names: string[], fullPlan: LoadPlan, onStart?: (window: LoadWindow) => void): Promise<WindowFigures[]> {
  measurementPeakRss = rssMb(serverPid);
  const plan = { ...fullPlan, windows: fullPlan.windows.filter((w) => w.seconds > 0) }; // --warmup 0
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'bench/load.ts'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const figures: WindowFigures[] = [];
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as LoadEvent;
      if (event.event === 'start') onStart?.(plan.windows[event.window]!);
      else {
        const window = plan.windows[event.window]!;
        figures.push({ ...event.result, target: names[window.target]!, warmup: window.warmup === true });
      }
    });
    child.on('exit', (code) => {
      children.delete(child);
      if (code === 0 && figures.length === plan.windows.length) resolve(figures);
      else reject(new Error(`load generator exited with ${code}`));
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Several windows of one target as one figure: the median of each measure; errors add up. */
function combine(windows: LoadResult[]): LoadResult {
  const of = (key: keyof LoadResult) => median(windows.map((w) => w[key]));
  const sum = (key: keyof LoadResult) => windows.reduce((total, w) => total + w[key], 0);
  return {
    requests: sum('requests'),
    rps: of('rps'),
    p50: of('p50'),
    p90: of('p90'),
    p99: of('p99'),
    max: Math.max(0, ...windows.map((w) => w.max)),
    errors: sum('errors'),
    non2xx: sum('non2xx'),
    bytesPerRequest: Math.round(of('bytesPerRequest')),
  };
}

/** Fetches a page once to check it is what we think we measure; returns the body's size in bytes. */
async function probe(url: string, cookie: string | undefined, expect: RegExp): Promise<number> {
  const response = await fetch(url, { headers: cookie ? { cookie } : {} });
  const text = await response.text();
  if (response.status !== 200 || !expect.test(text)) throw new Error(`bench: ${url} answered ${response.status} without ${expect}`);
  return Buffer.byteLength(text);
}

interface Row {
  name: string;
  /** What was loaded (not written to bench-results.json). */
  page: Page;
  connections: number;
  result: LoadResult;
  windows: WindowFigures[];
  /** The server's peak RSS while this row's plan ran, MB; none for the ceiling's row (another process). */
  peakRssMb?: number;
  /** Which targets apply: p50 and p99 limits (ms), minimum req/s. */
  target?: { p50?: number; p99?: number; rps?: number };
}
interface Ratio {
  name: string;
  /** The page under test and its yardstick. */
  test: string;
  reference: string;
  /** test req/s / reference req/s of each pair of adjacent windows. */
  pairs: number[];
  median: number;
  min: number;
  max: number;
  target: number;
}
const rows: Row[] = [];
const ratios: Ratio[] = [];
/** The table's lines in the order measured: a ratio follows the rows it stands on. */
const table: ({ row: Row } | { ratio: Ratio })[] = [];
const notRun: string[] = [];
const only = args.only ? new RegExp(args.only, 'i') : undefined;
const wanted = (name: string) => only === undefined || only.test(name);

interface Page {
  name: string;
  load: LoadTarget;
  cookie?: string;
  expect: RegExp;
  target?: Row['target'];
}

function pushRow(page: Page, windows: WindowFigures[], peakRssMb: number | undefined): Row {
  const counted = windows.filter((w) => !w.warmup && w.target === page.name);
  const row: Row = {
    name: page.name,
    page,
    connections: page.load.connections,
    result: combine(counted),
    windows: counted,
    ...(peakRssMb !== undefined ? { peakRssMb } : {}),
    ...(page.target ? { target: page.target } : {}),
  };
  rows.push(row);
  table.push({ row });
  return row;
}

/** One page: a warm-up, then one measured window. */
async function measure(page: Page): Promise<Row | undefined> {
  if (!wanted(page.name)) return undefined;
  await probe(page.load.url, page.cookie, page.expect);
  log(`bench: ${page.name}`);
  const windows = await runPlan([page.name], { targets: [page.load], windows: [{ target: 0, seconds: WARMUP, warmup: true }, { target: 0, seconds: SECONDS }] });
  return pushRow(page, windows, measurementPeakRss);
}

/**
 * A fair ratio: the page under test and its yardstick alternate, A B A B ..., after one warm-up of
 * each, and the ratio is the median of the pairwise ratios of adjacent windows.
 */
async function alternate(name: string, test: Page, reference: Page, target: number, options: { referenceRow?: boolean } = {}): Promise<void> {
  const windows: LoadWindow[] = [
    { target: 0, seconds: WARMUP, warmup: true },
    { target: 1, seconds: WARMUP, warmup: true },
  ];
  for (let i = 0; i < PAIRS; i++) windows.push({ target: 0, seconds: WINDOW }, { target: 1, seconds: WINDOW });
  log(`bench: ${name} (${PAIRS} pairs of ${WINDOW} s windows)`);
  const figures = await runPlan([test.name, reference.name], { targets: [test.load, reference.load], windows });
  const peak = measurementPeakRss;
  const testRow = pushRow(test, figures, peak);
  if (options.referenceRow) pushRow(reference, figures, undefined);
  const referenceWindows = figures.filter((w) => !w.warmup && w.target === reference.name);
  // A yardstick window that served nothing (the machine stalled) makes no pair.
  const pairs = testRow.windows.map((w, i) => w.rps / referenceWindows[i]!.rps).filter((r) => Number.isFinite(r));
  const ratio: Ratio = { name, test: test.name, reference: reference.name, pairs, median: median(pairs), min: Math.min(...pairs), max: Math.max(...pairs), target };
  ratios.push(ratio);
  table.push({ ratio });
}

const list = (params: Record<string, string>) => `${base}/index.php?${new URLSearchParams({ view: 'tickets', ...params }).toString()}`;
const aRow = /<tr data-ticket-id="\d+"/;
const page = (name: string, url: string, cookie: string, expect: RegExp, target?: Row['target'], connections = CONNECTIONS): Page => ({
  name,
  load: { url, connections, headers: { cookie } },
  cookie,
  expect,
  ...(target ? { target } : {}),
});
// The search words, the most common first (the one the quick run takes).
const wordsByShare = [...SEARCH_WORDS].sort((a, b) => (F.searchWords[b] ?? 0) - (F.searchWords[a] ?? 0));
const commonWord = wordsByShare[0]!;
const playerListPage = page('player list (default filter)', list({}), playerCookie, aRow, { p99: 50 });
const staffSearchPage = (word: string) => page(`staff search "${word}" (all statuses)`, list({ status: 'all', q: word }), staffCookie, aRow, { p50: 20, p99: 100 });

// ---------------------------------------------------------------------------------------------
// The measurements

/** The ceiling's process, up during the list/ceiling alternation only. */
async function startCeiling(): Promise<{ url: string; stop: () => void }> {
  const ceilingPort = await freePort();
  const ceiling = spawn(process.execPath, [...startScriptNodeFlags(), '--import', TSX, path.join(PROJECT_ROOT, 'bench/ceiling.ts'), runFile, String(F.heavyUserId), String(ceilingPort)], {
    cwd: PROJECT_ROOT,
    env: childEnv({ ...serverEnv, PORT: String(ceilingPort) }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(ceiling);
  await new Promise<void>((resolve, reject) => {
    ceiling.stdout!.once('data', () => resolve());
    ceiling.once('exit', (code) => reject(new Error(`bench: the ceiling exited with ${code} before it was ready`)));
  });
  return { url: `http://127.0.0.1:${ceilingPort}/index.php?view=tickets`, stop: () => ceiling.kill('SIGTERM') };
}

const LIST_CEILING = 'player list req/s / ceiling req/s';
const htmlBytes = { app: 0, ceiling: 0 };
if (wanted(playerListPage.name) || wanted('ceiling') || wanted(LIST_CEILING)) {
  const ceiling = await startCeiling();
  try {
    const ceilingPage: Page = { name: 'ceiling: bare Express + EJS, the same page', load: { url: ceiling.url, connections: CONNECTIONS }, expect: aRow };
    htmlBytes.app = await probe(playerListPage.load.url, playerCookie, aRow);
    htmlBytes.ceiling = await probe(ceiling.url, undefined, aRow);
    await alternate(LIST_CEILING, playerListPage, ceilingPage, 0.6, { referenceRow: true });
  } finally {
    ceiling.stop();
  }
} else notRun.push(`${LIST_CEILING} (--only)`);

// The staff search for a common word against the player list: the list is the yardstick, so the
// ratio runs when the search is wanted. The quick run takes the most common word only.
for (const word of QUICK ? [commonWord] : wordsByShare) {
  const search = staffSearchPage(word);
  const name = `staff search "${word}" req/s / player list req/s`;
  if (wanted(search.name) || wanted(name)) {
    await probe(search.load.url, staffCookie, aRow);
    await alternate(name, search, playerListPage, 0.5);
  } else notRun.push(`${name} (--only)`);
}

// One connection: how long one search takes when nothing else runs (issue #19: p50 <= 10 ms).
const oneConnection = (p: Page): Page => ({ ...p, name: `${p.name}, 1 connection`, load: { ...p.load, connections: 1 }, target: { p50: 10 } });
await measure(oneConnection(page(`player search "${SEARCH_WORDS[0]}"`, list({ q: SEARCH_WORDS[0]! }), playerCookie, aRow)));
for (const word of wordsByShare) await measure(oneConnection(staffSearchPage(word)));

if (!QUICK) {
  await measure(page(`player list, created ${F.dateFrom}..${F.dateTo}`, list({ date_from: F.dateFrom, date_to: F.dateTo }), playerCookie, aRow, { p99: 50 }));
  await measure(page(`player search "${SEARCH_WORDS[0]}"`, list({ q: SEARCH_WORDS[0]! }), playerCookie, aRow, { p50: 20, p99: 100 }));
  await measure(page('staff list, all tickets', list({ status: 'all' }), staffCookie, aRow, { p99: 100 }));
  await measure(page('staff queue (default filter)', list({}), staffCookie, aRow, { p99: 100 }));
  await measure(page(`ticket page, 200 messages`, `${base}/index.php?view=ticket&id=${F.longTicketId}`, playerCookie, /data-ticket-id/, { p99: 100 }));
  // view=stats (issue #18): every figure of the page over a range, from the covering indexes of
  // migration 011; the percentiles sort the range's index entries in SQLite (src/db/stats.ts).
  const stats = (params: Record<string, string>) => `${base}/index.php?${new URLSearchParams({ view: 'stats', ...params }).toString()}`;
  const aFigure = /data-stat="opened-total"/;
  await measure(page('stats page, last 30 days', stats({}), staffCookie, aFigure));
  await measure(page(`stats page, ${F.dateFrom}..${F.dateTo}`, stats({ from: F.dateFrom, to: F.dateTo }), staffCookie, aFigure));
  await measure(page(`stats CSV, ${F.dateFrom}..${F.dateTo}`, stats({ from: F.dateFrom, to: F.dateTo, format: 'csv' }), staffCookie, /^\ufeff?"section","metric","value"/));
}

/**
 * Game relays into existing tickets: each is a message stored and a Discord post queued. The fake
 * Discord lives in this process and answers the server's posts (and sends the gateway events they
 * cause back to the server): on a 2-CPU machine that work, and the server's Discord worker posting,
 * would share the CPUs with the relays measured. So the fake holds every REST call while the relays
 * are measured (the worker's lanes wait on their first post, as behind a slow Discord) and lets
 * them go after; then the posts must all reach the fake Discord (consecutive posts of a ticket may
 * share one message), and how long the outbox takes to drain is printed, not a target. The hold
 * stays under discord.js's 15 s request timeout, so no post is abandoned and retried: the measured
 * relay window is at most 10 s.
 */
const RELAYS = 'game relays into open tickets';
async function measureRelays(): Promise<{ drainSeconds: number }> {
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
  log('bench: game relays (Discord held)');
  const relays: Page = {
    name: RELAYS,
    load: { url: `${base}/api/game/actions`, connections: CONNECTIONS, method: 'POST', headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' }, bodiesFile },
    expect: /./,
    target: { rps: 3000 },
  };
  let windows: WindowFigures[];
  try {
    // Held from the measured window's start: the warm-up posts as usual.
    windows = await runPlan([relays.name], { targets: [relays.load], windows: [{ target: 0, seconds: WARMUP, warmup: true }, { target: 0, seconds: Math.min(SECONDS, 10) }] }, (window) => {
      if (!window.warmup) fake.holdRest();
    });
  } finally {
    fake.releaseRest();
  }
  pushRow(relays, windows, measurementPeakRss);
  const drainStarted = Date.now();
  const reader = openDatabase(runFile, { migrate: false }).db;
  const pending = () => (reader.prepare('SELECT COUNT(*) AS n FROM discord_outbox WHERE done_at IS NULL').get() as { n: number }).n;
  await waitFor('the Discord outbox to drain', () => pending() === 0, 600_000).catch((err: Error) => log(`bench: ${err.message}`));
  reader.close();
  return { drainSeconds: (Date.now() - drainStarted) / 1000 };
}
const { drainSeconds } = wanted('game relays') ? await measureRelays() : { drainSeconds: 0 };

// Whisper latency: a staff message in Discord until a waiting long poll returns it.
const whisperLatencies: number[] = [];
const auth = { authorization: `Bearer ${GAME_TOKEN}` };
const whisperRounds = wanted('whisper') ? WHISPER_ROUNDS : 0;
if (whisperRounds === 0) notRun.push(`whisper latency (${QUICK ? 'not in --quick' : wanted('whisper') ? '--whispers 0' : '--only'})`);
if (whisperRounds > 0) log('bench: whisper latency');
/**
 * Takes and acknowledges whispers until `until` is among them (or, without one, none are left);
 * returns when the poll that brought it answered.
 */
async function takeWhispers(until?: string): Promise<number> {
  for (;;) {
    const response = await fetch(`${base}/api/game/whispers?wait=${until ? 10 : 0}&limit=50`, { headers: auth });
    const body = (await response.json()) as { whispers: { id: number; text: string }[] };
    const received = performance.now();
    if (body.whispers.length > 0) {
      const ack = await fetch(`${base}/api/game/whispers/ack`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ids: body.whispers.map((w) => w.id) }) });
      await ack.arrayBuffer();
    }
    if (until ? body.whispers.some((w) => w.text.includes(until)) : body.whispers.length === 0) return received;
    if (until && body.whispers.length === 0) throw new Error(`bench: whisper "${until}" did not arrive`);
  }
}
// The server's own whispers (reminders to players that Support waits for them) are taken first,
// so each long poll below waits for the staff message alone.
if (whisperRounds > 0) await takeWhispers();
for (let i = 0; i < whisperRounds; i++) {
  const game = F.gameTickets[i % F.gameTickets.length]!;
  const poll = takeWhispers(`whisper ${i}:`);
  await new Promise((resolve) => setTimeout(resolve, 15));
  const sent = performance.now();
  fake.userSays(game.channelId, { userId: staffMemberId, content: `whisper ${i}: your item is restored`, force: true });
  whisperLatencies.push((await poll) - sent);
}
whisperLatencies.sort((a, b) => a - b);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

sampling = false;
clearInterval(sampler);
await new Promise((resolve) => setTimeout(resolve, 5000));
const idleRss = rssMb(serverPid);

/**
 * The heap at peak load, for the memory work: one more window of the load under which the
 * server's RSS peaked (the staff search for the most common word if no row was measured; the
 * relays with Discord held again, as measured), and near its end the server writes a V8 heap
 * snapshot. It comes after the RSS figures because writing a snapshot stops the server and takes
 * memory itself.
 */
async function heapSnapshot(dir: string): Promise<{ file?: string; during: string }> {
  const heaviest = rows.filter((r) => r.peakRssMb !== undefined).sort((a, b) => b.peakRssMb! - a.peakRssMb!)[0]?.page ?? staffSearchPage(commonWord);
  const holdDiscord = heaviest.name === RELAYS;
  const before = new Set(fs.readdirSync(dir));
  const seconds = Math.max(WINDOW, 4);
  log(`bench: heap snapshot during "${heaviest.name}" into ${dir}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await runPlan([heaviest.name], { targets: [heaviest.load], windows: [{ target: 0, seconds }] }, () => {
      if (holdDiscord) fake.holdRest();
      timer = setTimeout(() => process.kill(serverPid, 'SIGUSR1'), (seconds - 1) * 1000);
    });
  } finally {
    clearTimeout(timer);
    fake.releaseRest();
  }
  // The snapshot is written on the server's main thread: once /healthz answers again it is done.
  const written = () => fs.readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
  await waitFor('the heap snapshot', async () => (await fetch(`${base}/healthz`)).ok && written() !== undefined, 300_000);
  const file = written();
  return { ...(file ? { file: path.join(dir, file) } : {}), during: heaviest.name };
}
const heap = heapDir ? await heapSnapshot(heapDir) : undefined;
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
const NAME = 58;
const line = (name: string, windows: string, value: string, p50 = '', p99 = '', rss = '', target = '') =>
  `${name.padEnd(NAME)} ${windows.padStart(7)} ${value.padStart(8)} ${p50.padStart(6)} ${p99.padStart(6)} ${rss.padStart(6)}  ${target}`.trimEnd();
const lines: string[] = [];
lines.push('');
lines.push(
  `ticketbridge bench${QUICK ? ' --quick' : ''}: ${TICKETS.toLocaleString('en')} tickets, ${MESSAGES.toLocaleString('en')} messages, ${F.players.toLocaleString('en')} players; ${os.cpus().length} CPUs, node ${process.version}`,
);
lines.push(`load: ${CONNECTIONS} connections unless a row says 1; other rows: a ${WARMUP} s warm-up, then one ${SECONDS} s window`);
lines.push(
  `ratios: ${PAIRS} pairs of ${WINDOW} s windows, A B A B ... after a ${WARMUP} s warm-up of each; the median of the pairwise ratios [min..max]; a row over several windows gives the median of its windows' figures`,
);
lines.push(`search words, share of messages containing them: ${Object.entries(F.searchWords).map(([w, share]) => `"${w}" ${(share * 100).toFixed(2)}%`).join(', ')}`);
lines.push('');
lines.push(line('measurement', 'windows', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'target'));
for (const entry of table) {
  if ('ratio' in entry) {
    const { ratio } = entry;
    const spread = `[${ratio.min.toFixed(2)}..${ratio.max.toFixed(2)}]`;
    lines.push(line(ratio.name, `${ratio.pairs.length}+${ratio.pairs.length}`, ratio.median.toFixed(2), '', '', '', `${spread} >=${ratio.target} ${verdict(ratio.median >= ratio.target, ratio.name)}`));
    continue;
  }
  const { row } = entry;
  const { result, target } = row;
  const parts: string[] = [];
  if (target?.p50 !== undefined) parts.push(`p50<=${target.p50} ${verdict(result.p50 <= target.p50, `${row.name} p50`)}`);
  if (target?.p99 !== undefined) parts.push(`p99<=${target.p99} ${verdict(result.p99 <= target.p99, `${row.name} p99`)}`);
  if (target?.rps !== undefined) parts.push(`>=${target.rps}/s ${verdict(result.rps >= target.rps, `${row.name} req/s`)}`);
  if (result.errors > 0 || result.non2xx > 0) parts.push(verdict(false, `${row.name}: ${result.errors} errors, ${result.non2xx} non-2xx`) + ` (${result.errors} errors, ${result.non2xx} non-2xx)`);
  lines.push(line(row.name, String(row.windows.length), result.rps.toFixed(0), ms(result.p50), ms(result.p99), row.peakRssMb?.toFixed(0) ?? '', parts.join(', ')));
}
for (const what of notRun) {
  const [, name, why] = /^(.*) \((.*)\)$/.exec(what)!;
  lines.push(line(name!, '', '', '', '', '', `not run (${why})`));
}
if (htmlBytes.app > 0) {
  // The ceiling must render the very page the app renders, or the ratio compares two pages.
  const same = Math.abs(htmlBytes.app - htmlBytes.ceiling) <= htmlBytes.app * 0.01;
  lines.push(
    line('list page HTML bytes: app / ceiling', '', `${htmlBytes.app}`, '', '', '', `${htmlBytes.ceiling} (ceiling); same size within 1%: ${verdict(same, 'ceiling page size differs from the app list page')}`),
  );
}
if (whisperLatencies.length > 0) {
  lines.push(line('whisper latency, Discord -> waiting long poll', String(whisperLatencies.length), '', ms(pct(whisperLatencies, 50)), ms(pct(whisperLatencies, 99)), '', `p99<=50 ${verdict(pct(whisperLatencies, 99) <= 50, 'whisper p99')} (whispers, not windows)`));
}
if (wanted('game relays')) lines.push(line('Discord posts of the relays drained in (after the hold)', '', `${drainSeconds.toFixed(1)} s`));
lines.push(line('peak RSS under load', '', `${peakRss.toFixed(0)} MB`, '', '', '', `<=200 MB ${verdict(peakRss <= 200, 'peak RSS')}`));
lines.push(line('RSS idle (5 s after load)', '', `${idleRss.toFixed(0)} MB`));
lines.push(line('start to healthy /healthz (median of 3)', '3', `${(startTimes[1]! / 1000).toFixed(2)} s`, '', '', '', `<=1.5 s ${verdict(startTimes[1]! <= 1500, 'start to healthy')}`));
if (heap) lines.push(`heap snapshot during "${heap.during}": ${heap.file ?? `none written into ${heapDir}`}`);
lines.push('');
if (!atScale) lines.push('note: the targets are stated at 1,000,000 tickets / 5,000,000 messages; this run is smaller.');
lines.push(verdicts.length === 0 ? 'all targets met' : `targets missed: ${verdicts.join('; ')}`);
log(lines.join('\n'));

const results = {
  at: new Date().toISOString(),
  quick: QUICK,
  machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 1e9), node: process.version },
  dataset: { tickets: TICKETS, messages: MESSAGES, players: F.players, heavyPlayerTickets: F.heavyTickets, searchWords: F.searchWords, buildSeconds: F.buildSeconds },
  load: { connections: CONNECTIONS, warmupSeconds: WARMUP, seconds: SECONDS, windowSeconds: WINDOW, pairs: PAIRS },
  // Each row's figures are the median of its windows; `windows` holds every window's own.
  rows: rows.map((row) => ({ name: row.name, connections: row.connections, ...row.result, peakRssMb: row.peakRssMb, target: row.target, windows: row.windows })),
  ratios,
  notRun,
  listPageHtmlBytes: htmlBytes,
  whisperLatencyMs: { p50: pct(whisperLatencies, 50), p99: pct(whisperLatencies, 99), count: whisperLatencies.length },
  discordDrainSeconds: drainSeconds,
  rssMb: { peakUnderLoad: peakRss, idle: idleRss },
  startToHealthyMs: startTimes,
  ...(heap ? { heapSnapshot: heap } : {}),
  missed: verdicts,
};
fs.writeFileSync(path.join(PROJECT_ROOT, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
// The run's copy goes; a --keep database (outside workDir) stays as it was built.
fs.rmSync(workDir, { recursive: true, force: true });
process.exit(0);
