// Backups and restore (issue #17), with the real parts: the server process with BACKUP_DIR takes
// an archive while players keep posting tickets, replies and files; the CLI restores it into a
// fresh folder, where every write acknowledged before the backup started is found, files byte for
// byte. A restore is refused while a server runs on the database, and a damaged archive is refused
// with nothing changed. The schedule's timing and pruning run on a controllable clock.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import * as tar from 'tar';
import { createAccount } from '../../src/accounts.js';
import { archiveName, createBackupSchedule, lastBackup, lastSuccessfulBackup, listArchives, pruneArchives, type Clock } from '../../src/backup.js';
import { openDatabase, prepared } from '../../src/db/index.js';
import { createLogger } from '../../src/log.js';
import { saveLimits } from '../../src/tickets/quotas.js';
import { Client, DEFAULT_PASSWORD } from '../../support/client.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { launchServer, untilListening, type ServerProcess } from '../../support/server.js';
import { NO_LIMITS, tempDir } from '../helpers/app.js';
import { runSync } from '../helpers/process.js';

const PNG_HEAD = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d4948445200000001', 'hex')]);

const servers: ServerProcess[] = [];
after(() => {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
});

async function prepareDatabase(databasePath: string): Promise<void> {
  const { db } = openDatabase(databasePath);
  try {
    await createAccount(db, { username: 'player', password: DEFAULT_PASSWORD, role: 'user' });
    await createAccount(db, { username: 'player2', password: DEFAULT_PASSWORD, role: 'user' });
    // An admin, so the first start prints no one-time password.
    await createAccount(db, { username: 'admin', password: DEFAULT_PASSWORD, role: 'admin' });
    saveLimits(db, NO_LIMITS);
  } finally {
    db.close();
  }
}

function start(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  const server = launchServer({ cwd, env: { PORT: '0', HOST: '127.0.0.1', SESSION_SECRET: 'backup-test-session-secret-0123456789ab', ...env } });
  servers.push(server);
  return untilListening(server);
}

function cli(args: string[], env: Record<string, string>, cwd: string) {
  return runSync('src/cli.ts', args, { cwd, env });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function logLines(server: ServerProcess): Record<string, unknown>[] {
  return server
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A signed-in player who posts tickets and replies with files, recording each acknowledged write. */
interface Write {
  marker: string;
  ticketId: number;
  subject?: string;
  files: { name: string; content: Buffer }[];
  ackedAt: number;
}

class Player {
  readonly client: Client;
  token = '';
  readonly tickets: number[] = [];
  constructor(
    url: string,
    readonly username: string,
  ) {
    this.client = new Client(url, {}, { timeoutMs: 20_000 });
  }

  async signIn(): Promise<void> {
    assert.equal((await this.client.login(this.username)).status, 303);
    this.token = await this.client.csrf('/index.php?view=ticket_create');
  }

  private files(marker: string, n: number): { name: string; content: Buffer }[] {
    return Array.from({ length: n }, (_, i) =>
      i % 2 === 0
        ? { name: `shot-${marker}-${i}.png`, content: Buffer.concat([PNG_HEAD, randomBytes(20_000 + i)]) }
        : { name: `log-${marker}-${i}.txt`, content: Buffer.from(`${marker} ${randomBytes(30_000).toString('base64')}\n`) },
    );
  }

  async create(marker: string, bigText = false): Promise<Write | undefined> {
    const subject = `Subject ${marker}`;
    const files = this.files(marker, 2);
    const body = bigText ? `${marker} ${'lorem ipsum dolor '.repeat(1100)}` : `${marker} cannot log in`;
    const form = new FormData();
    form.append('_csrf', this.token);
    form.append('subject', subject);
    form.append('message', body);
    form.append('priority', 'normal');
    for (const f of files) form.append('attachments', new Blob([f.content]), f.name);
    const answer = await this.client.request('POST', '/index.php?view=ticket_create', form);
    const id = /view=ticket&id=(\d+)/.exec(answer.location ?? '')?.[1];
    if (answer.status !== 303 || !id) return undefined;
    this.tickets.push(Number(id));
    return { marker, ticketId: Number(id), subject, files, ackedAt: Date.now() };
  }

  async reply(marker: string): Promise<Write | undefined> {
    const ticketId = this.tickets[Math.floor(Math.random() * this.tickets.length)];
    if (ticketId === undefined) return this.create(marker);
    const files = this.files(marker, 1);
    const form = new FormData();
    form.append('_csrf', this.token);
    form.append('message', `${marker} still broken`);
    for (const f of files) form.append('attachments', new Blob([f.content]), f.name);
    const answer = await this.client.request('POST', `/index.php?view=ticket&id=${ticketId}&action=reply`, form);
    if (answer.status !== 303) return undefined;
    return { marker, ticketId, files, ackedAt: Date.now() };
  }
}

let markerCount = 0;
const nextMarker = () => `m${(markerCount += 1).toString().padStart(5, '0')}x`;

/** What a restore must not touch when it refuses: every file under `dir` with its SHA-256. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = sha256(fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

// Shared by the tests below, in order: the archive taken under load, and the folder restored from it.
let goodArchive = '';
let restoredDir = '';

describe('a backup of the live server under load, restored into a fresh folder', () => {
  test('every ticket, message and file acknowledged before the backup started is restored; restore refused while the server runs', async (t) => {
    const dir = tempDir('tb-backup-');
    const databasePath = path.join(dir, 'data', 'app.db');
    const uploadsDir = path.join(dir, 'uploads');
    const backupDir = path.join(dir, 'backups');
    await prepareDatabase(databasePath);
    const env = { DATABASE_PATH: databasePath, UPLOADS_DIR: uploadsDir, BACKUP_DIR: backupDir, BACKUP_KEEP: '3', LOG_LEVEL: 'info' };
    const server = await start(env, dir);
    const url = await server.url;
    // No archive yet: the schedule makes the first one at start.
    await pollUntil(() => logLines(server).some((l) => l.msg === `backup written to ${(l as { file?: string }).file}`), 20_000, 'the first backup');

    const players = [new Player(url, 'player'), new Player(url, 'player2')];
    for (const p of players) await p.signIn();
    const writes: Write[] = [];
    // Some bulk first, so the online copy takes several steps while the players keep posting.
    for (let i = 0; i < 40; i++) {
      const w = await players[i % 2]!.create(nextMarker(), true);
      assert.ok(w, 'a create before the backup is acknowledged');
      writes.push(w);
    }

    let running = true;
    const loops = players.map(async (p) => {
      while (running) {
        const w = Math.random() < 0.4 ? await p.create(nextMarker()) : await p.reply(nextMarker());
        if (w) writes.push(w);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    const startedBefore = logLines(server).filter((l) => l.msg === 'backup started').length;
    server.child.kill('SIGUSR2');
    const written = await pollUntil(
      () => logLines(server).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('backup written to ')).at(1) as { file: string; time: string } | undefined,
      30_000,
      'the backup asked for with SIGUSR2',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    running = false;
    await Promise.all(loops);

    const started = logLines(server).filter((l) => l.msg === 'backup started')[startedBefore] as { time: string; file: string };
    assert.equal(started.file, written.file);
    const startedAt = Date.parse(started.time);
    const finishedAt = Date.parse(written.time);
    const during = writes.filter((w) => w.ackedAt > startedAt && w.ackedAt < finishedAt).length;
    const before = writes.filter((w) => w.ackedAt < signalledAt);
    assert.ok(before.length > 40, `writes acknowledged before the backup: ${before.length}`);
    t.diagnostic(`${before.length} writes acknowledged before the backup, ${during} while it ran (${finishedAt - startedAt} ms)`);
    assert.ok(during > 0, `writes acknowledged while the backup ran (${finishedAt - startedAt} ms): ${during}`);
    goodArchive = written.file;
    assert.match(path.basename(goodArchive), /^ticketbridge-\d{8}T\d{6}\.\d{3}Z\.tar\.gz$/);
    assert.equal(fs.statSync(goodArchive).mode & 0o777, 0o600, 'the archive is readable by its owner only');
    assert.deepEqual(
      fs.readdirSync(backupDir).filter((name) => name.startsWith('.')),
      [],
      'no temporary file is left in BACKUP_DIR',
    );

    // While the server runs on it, the database is not replaced.
    const refused = cli(['db:restore', goodArchive], env, dir);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /^ticketbridge: Refused: a ticketbridge server is running on .*app\.db \(it holds .*app\.db\.lock\); stop it first, then restore\.\n$/);
    assert.deepEqual(
      fs.readdirSync(path.dirname(databasePath)).filter((name) => name.includes('before-restore') || name.startsWith('.')),
      [],
    );
    assert.deepEqual(fs.readdirSync(dir).filter((name) => name.includes('before-restore')), []);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);

    // A fresh folder: new DATABASE_PATH and UPLOADS_DIR.
    restoredDir = tempDir('tb-restored-');
    const freshEnv = { DATABASE_PATH: path.join(restoredDir, 'db', 'app.db'), UPLOADS_DIR: path.join(restoredDir, 'files') };
    const restored = cli(['db:restore', goodArchive], freshEnv, restoredDir);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restored .*ticketbridge-.*\.tar\.gz \(made .* by ticketbridge .*, schema version \d+\)\n/);
    assert.match(restored.stdout, /there was no database there before/);

    const { db } = openDatabase(freshEnv.DATABASE_PATH);
    try {
      const lost: string[] = [];
      for (const w of before) {
        if (w.subject) {
          const ticket = prepared(db, 'SELECT subject FROM tickets WHERE id = ?').get(w.ticketId) as { subject: string } | undefined;
          if (ticket?.subject !== w.subject) lost.push(`ticket ${w.ticketId} (${w.marker})`);
        }
        const message = prepared(db, "SELECT id FROM messages WHERE ticket_id = ? AND body LIKE ? || ' %'").get(w.ticketId, w.marker) as { id: number } | undefined;
        if (!message) {
          lost.push(`message ${w.marker}`);
          continue;
        }
        for (const f of w.files) {
          const row = prepared(db, 'SELECT storage_name AS storageName FROM attachments WHERE message_id = ? AND original_name = ?').get(message.id, f.name) as
            | { storageName: string }
            | undefined;
          const file = row && path.join(freshEnv.UPLOADS_DIR, row.storageName);
          if (!file || !fs.existsSync(file)) lost.push(`file ${f.name}`);
          else if (!fs.readFileSync(file).equals(f.content)) lost.push(`file ${f.name} (different bytes)`);
        }
      }
      assert.deepEqual(lost, [], 'nothing acknowledged before the backup is missing');
      assert.deepEqual(prepared(db, 'PRAGMA integrity_check').get(), { integrity_check: 'ok' });
    } finally {
      db.close();
    }

    // The restored folder serves: a server on it shows a ticket and hands out its file.
    const w = before[0]!;
    const copy = await start({ ...freshEnv, LOG_LEVEL: 'info' }, restoredDir);
    const reader = new Client(await copy.url);
    // The first write was player's first ticket.
    assert.equal((await reader.login('player')).status, 303);
    const page = await reader.get(`/index.php?view=ticket&id=${w.ticketId}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(w.marker));
    const link = new RegExp(`view=attachment&amp;ticket=${w.ticketId}&amp;id=(\\d+)`).exec(page.text);
    assert.ok(link, 'the ticket page links its files');
    const download = await fetch(new URL(`/index.php?view=attachment&ticket=${w.ticketId}&id=${link[1]}`, await copy.url), { headers: { cookie: reader.cookieHeader() } });
    assert.equal(download.status, 200);
    const bytes = Buffer.from(await download.arrayBuffer());
    assert.ok(
      w.files.some((f) => f.content.equals(bytes)),
      'the downloaded file is one of the files sent, byte for byte',
    );
    assert.equal((await copy.stop()).code, 0);

    const exit = await server.stop();
    assert.equal(exit.code, 0, 'SIGTERM stops the server (and its schedule) cleanly');
    assert.ok(lastBackupOf(databasePath)?.ok, 'the last result is kept in the settings');
  });
});

function lastBackupOf(databasePath: string) {
  const { db } = openDatabase(databasePath);
  try {
    return lastBackup(db);
  } finally {
    db.close();
  }
}

/** Unpacks `archive`, lets `change` damage the files, packs them again (entries in the same order). */
async function repack(archive: string, change: (dir: string) => void): Promise<string> {
  const work = tempDir('tb-repack-');
  const unpacked = path.join(work, 'x');
  fs.mkdirSync(unpacked);
  await tar.extract({ file: archive, cwd: unpacked });
  change(unpacked);
  const entries = ['manifest.json', 'database.sqlite', ...fs.readdirSync(path.join(unpacked, 'uploads')).map((n) => `uploads/${n}`)].filter((e) =>
    fs.existsSync(path.join(unpacked, e)),
  );
  const out = path.join(work, 'damaged.tar.gz');
  await tar.create({ gzip: true, file: out, cwd: unpacked, portable: true }, entries);
  return out;
}

describe('a damaged archive is refused and nothing changes', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'a file whose bytes do not match its SHA-256',
      () =>
        repack(goodArchive, (dir) => {
          const name = fs.readdirSync(path.join(dir, 'uploads'))[0]!;
          const file = path.join(dir, 'uploads', name);
          const bytes = fs.readFileSync(file);
          bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
          fs.writeFileSync(file, bytes);
        }),
      /^ticketbridge: The archive was refused because the file [\w-]+ does not match the SHA-256 its attachment row recorded \(the archive is damaged\)\.\n$/,
    ],
    [
      'a missing attachment file',
      () => repack(goodArchive, (dir) => fs.rmSync(path.join(dir, 'uploads', fs.readdirSync(path.join(dir, 'uploads'))[0]!))),
      /^ticketbridge: The archive was refused because the file [\w-]+ of an attachment is missing from it\.\n$/,
    ],
    [
      'a truncated database whose manifest was made to match',
      () =>
        repack(goodArchive, (dir) => {
          const file = path.join(dir, 'database.sqlite');
          const bytes = fs.readFileSync(file);
          const cut = bytes.subarray(0, Math.floor(bytes.length / 2));
          fs.writeFileSync(file, cut);
          const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { database: { sha256: string; bytes: number } };
          manifest.database = { ...manifest.database, sha256: sha256(cut), bytes: cut.length };
          fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
        }),
      /^ticketbridge: The archive was refused because its database fails PRAGMA integrity_check \(.+\)\.\n$/,
    ],
    [
      'a database changed after the manifest was written',
      () => repack(goodArchive, (dir) => fs.appendFileSync(path.join(dir, 'database.sqlite'), Buffer.alloc(4096))),
      /^ticketbridge: The archive was refused because its database\.sqlite does not match the SHA-256 in its manifest \(the archive is damaged\)\.\n$/,
    ],
    [
      'an archive cut short',
      async () => {
        const out = path.join(tempDir('tb-cut-'), 'cut.tar.gz');
        const bytes = fs.readFileSync(goodArchive);
        fs.writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
        return out;
      },
      /^ticketbridge: The archive was refused because it cannot be (read as a \.tar\.gz|unpacked) \(.+\)\.\n$/,
    ],
    [
      'an entry that climbs out of the folder',
      async () => {
        const work = tempDir('tb-evil-');
        fs.mkdirSync(path.join(work, 'inner'));
        fs.writeFileSync(path.join(work, 'escaped.txt'), 'not yours');
        await tar.extract({ file: goodArchive, cwd: path.join(work, 'inner') });
        const out = path.join(work, 'evil.tar.gz');
        await tar.create({ gzip: true, file: out, cwd: path.join(work, 'inner'), preservePaths: true }, ['manifest.json', 'database.sqlite', '../escaped.txt']);
        return out;
      },
      /^ticketbridge: The archive was refused because it holds an entry that is not ours: "\.\.\/escaped\.txt" \(File\)\.\n$/,
    ],
  ];

  for (const [name, make, message] of cases) {
    test(name, async () => {
      assert.ok(goodArchive && restoredDir, 'the test above made an archive and a restored folder');
      const archive = await make();
      const env = { DATABASE_PATH: path.join(restoredDir, 'db', 'app.db'), UPLOADS_DIR: path.join(restoredDir, 'files') };
      const before = snapshot(restoredDir);
      const result = cli(['db:restore', archive], env, restoredDir);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
      assert.deepEqual(snapshot(restoredDir), before, 'nothing in the folder changed');
      assert.ok(!fs.existsSync(path.join(path.dirname(restoredDir), 'escaped.txt')));
    });
  }

  test('the good archive restores over an existing folder and keeps what was there', () => {
    const env = { DATABASE_PATH: path.join(restoredDir, 'db', 'app.db'), UPLOADS_DIR: path.join(restoredDir, 'files') };
    const oldDb = sha256(fs.readFileSync(env.DATABASE_PATH));
    const result = cli(['db:restore', goodArchive], env, restoredDir);
    assert.equal(result.code, 0, result.stderr);
    const kept = /the database that was there is kept as (\S+)/.exec(result.stdout)?.[1];
    assert.ok(kept && fs.existsSync(kept));
    assert.equal(sha256(fs.readFileSync(kept)), oldDb);
    assert.match(result.stdout, /the uploads folder that was there is kept as .*files\.before-restore-\d{8}T\d{6}\.\d{3}Z/);
  });
});

describe('npm run cli -- backup', () => {
  test('makes an archive at once in the same format, named like the schedule in a folder; it restores', () => {
    assert.ok(restoredDir, 'the test above made a restored folder');
    const env = { DATABASE_PATH: path.join(restoredDir, 'db', 'app.db'), UPLOADS_DIR: path.join(restoredDir, 'files') };
    const out = path.join(tempDir('tb-cli-backup-'), 'archives');
    const made = cli(['backup', `${out}/`], env, restoredDir);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^backup written to .*\/archives\/ticketbridge-\d{8}T\d{6}\.\d{3}Z\.tar\.gz \(\d+ bytes, \d+ ms\)\n {2}\d+ tickets, \d+ messages, \d+ attachments, 3 users\n$/);
    const [archive] = listArchives(out);
    assert.ok(archive);
    const last = lastBackupOf(env.DATABASE_PATH);
    assert.ok(last?.ok && last.trigger === 'cli' && last.file === archive.file);

    const named = cli(['backup', path.join(out, 'manual.tar.gz')], env, restoredDir);
    assert.equal(named.code, 0, named.stderr);
    const again = tempDir('tb-cli-restore-');
    const restored = cli(['db:restore', path.join(out, 'manual.tar.gz')], { DATABASE_PATH: path.join(again, 'app.db'), UPLOADS_DIR: path.join(again, 'up') }, again);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(fs.readdirSync(path.join(again, 'up')).sort(), fs.readdirSync(env.UPLOADS_DIR).sort());

    // Its folder would be inside a plain file: nothing can be written there.
    const plainFile = path.join(out, 'manual.tar.gz');
    const nowhere = cli(['backup', path.join(plainFile, 'x.tar.gz')], env, restoredDir);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /^ticketbridge: The backup failed: .+\.\n$/);
  });
});

/** A clock the test moves by hand; the one timer the schedule sets is run when due. */
class FakeClock implements Clock {
  time: number;
  timers = new Map<number, { at: number; callback: () => void }>();
  private ids = 0;
  constructor(start: number) {
    this.time = start;
  }
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const id = (this.ids += 1);
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  /** The due time of the one pending timer. */
  pending(): number | undefined {
    return [...this.timers.values()][0]?.at;
  }
  /** Moves to `at` and runs the timers due by then. */
  advanceTo(at: number): void {
    this.time = at;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= at) {
        this.timers.delete(id);
        timer.callback();
      }
    }
  }
}

describe('the schedule, on a controllable clock', () => {
  const HOUR = 60 * 60 * 1000;

  async function setup() {
    const dir = tempDir('tb-schedule-');
    const { db } = openDatabase(path.join(dir, 'app.db'));
    fs.mkdirSync(path.join(dir, 'uploads'));
    const logs: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
    return { dir, db, logger, logs, backupDir: path.join(dir, 'backups') };
  }

  test('runs at once with no archive, then every interval; prunes to BACKUP_KEEP newest, only files named like ours', async () => {
    const { dir, db, logger, backupDir } = await setup();
    fs.mkdirSync(backupDir);
    fs.writeFileSync(path.join(backupDir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(backupDir, 'ticketbridge-manual.tar.gz'), 'mine too');
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 3, 0, 0));
    const schedule = createBackupSchedule({ db, uploadsDir: path.join(dir, 'uploads'), dir: backupDir, intervalHours: 6, keep: 3, logger, clock });
    schedule.start();
    assert.equal(schedule.nextAt(), clock.time, 'no archive yet: due now');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const due = clock.pending()!;
      times.push(due);
      clock.advanceTo(due);
      assert.equal(schedule.running(), true);
      await pollUntil(() => !schedule.running() && clock.pending() !== undefined, 10_000, 'the run to finish');
      assert.equal(clock.pending(), due + 6 * HOUR, 'the next run is an interval after the archive just made');
    }
    const left = listArchives(backupDir).map((a) => a.name);
    assert.deepEqual(left, times.slice(-3).reverse().map(archiveName));
    assert.ok(fs.existsSync(path.join(backupDir, 'notes.txt')));
    assert.ok(fs.existsSync(path.join(backupDir, 'ticketbridge-manual.tar.gz')));
    const last = lastBackup(db);
    assert.ok(last?.ok);
    assert.equal(last.file, path.join(backupDir, archiveName(times[4]!)));
    assert.equal(last.trigger, 'schedule');
    assert.deepEqual(lastSuccessfulBackup(db), last);
    assert.equal(pruneArchives(backupDir, 3).length, 0);
    await schedule.stop();
    assert.equal(clock.pending(), undefined, 'stop clears the timer');
    db.close();
  });

  test('after a restart the next run counts from the newest archive, not from the start', async () => {
    const { dir, db, logger, backupDir } = await setup();
    const made = Date.UTC(2026, 0, 1, 3, 0, 0);
    const first = new FakeClock(made);
    const one = createBackupSchedule({ db, uploadsDir: path.join(dir, 'uploads'), dir: backupDir, intervalHours: 24, keep: 7, logger, clock: first });
    await one.runNow();
    await one.stop();

    // Started again 10 minutes later: nothing runs now; the next is 24 h after the archive.
    const clock = new FakeClock(made + 10 * 60 * 1000);
    const again = createBackupSchedule({ db, uploadsDir: path.join(dir, 'uploads'), dir: backupDir, intervalHours: 24, keep: 7, logger, clock });
    again.start();
    assert.equal(again.nextAt(), made + 24 * HOUR);
    assert.equal(clock.pending(), made + 24 * HOUR);
    clock.advanceTo(made + 23 * HOUR);
    assert.equal(again.running(), false);
    assert.equal(listArchives(backupDir).length, 1);
    clock.advanceTo(made + 24 * HOUR);
    assert.equal(again.running(), true);
    await again.stop();
    db.close();
  });

  test('never two at once: a second call joins the run under way', async () => {
    const { dir, db, logger, backupDir } = await setup();
    const clock = new FakeClock(Date.UTC(2026, 0, 2));
    const schedule = createBackupSchedule({ db, uploadsDir: path.join(dir, 'uploads'), dir: backupDir, intervalHours: 24, keep: 7, logger, clock });
    const a = schedule.runNow();
    const b = schedule.runNow();
    assert.equal(a, b);
    assert.ok((await a).ok);
    assert.equal(listArchives(backupDir).length, 1);
    db.close();
  });

  test('stop() during a run: the run gives up between steps, leaves no temporary file, and is not recorded as a failure', async () => {
    const { dir, db, logger, logs, backupDir } = await setup();
    // Some pages to copy, so the online backup takes more than one step.
    prepared(db, 'CREATE TABLE filler (x BLOB)').run();
    for (let i = 0; i < 200; i++) prepared(db, 'INSERT INTO filler VALUES (?)').run(randomBytes(16_384));
    const clock = new FakeClock(Date.UTC(2026, 0, 4));
    const schedule = createBackupSchedule({ db, uploadsDir: path.join(dir, 'uploads'), dir: backupDir, intervalHours: 24, keep: 7, logger, clock });
    schedule.start();
    const run = schedule.runNow();
    await schedule.stop();
    const result = await run;
    assert.equal(result.ok, false);
    assert.equal(lastBackup(db), undefined, 'a stop is not a failure of the backup');
    assert.deepEqual(fs.readdirSync(backupDir), []);
    assert.ok(logs.some((line) => line.includes('backup stopped with the server')));
    db.close();
  });

  test('a failed run is recorded with its reason and retried later, not in a loop', async () => {
    const { dir, db, logger, logs, backupDir } = await setup();
    // A row whose file is not there: the archive would not restore, so the backup fails.
    prepared(db, "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('u', 'x', 'user', 0, 0)").run();
    prepared(db, "INSERT INTO tickets (user_id, subject, created_at, updated_at) VALUES (1, 's', 0, 0)").run();
    prepared(db, "INSERT INTO messages (ticket_id, author_kind, author_name, body, created_at) VALUES (1, 'player', 'u', 'b', 0)").run();
    prepared(db, "INSERT INTO attachments (ticket_id, message_id, storage_name, original_name, content_type, size_bytes, sha256, created_at) VALUES (1, 1, 'gone123', 'a.txt', 'text/plain', 1, ?, 0)").run('0'.repeat(64));
    const clock = new FakeClock(Date.UTC(2026, 0, 3));
    const schedule = createBackupSchedule({ db, uploadsDir: path.join(dir, 'uploads'), dir: backupDir, intervalHours: 24, keep: 7, logger, clock });
    schedule.start();
    clock.advanceTo(clock.time);
    await pollUntil(() => !schedule.running() && clock.pending() !== undefined, 10_000, 'the failed run');
    const last = lastBackup(db);
    assert.ok(last && !last.ok);
    assert.match(last.error, /the file gone123 of an attachment is missing from UPLOADS_DIR/);
    assert.equal(lastSuccessfulBackup(db), undefined);
    assert.equal(clock.pending(), clock.time + HOUR, 'retried after an hour');
    assert.ok(logs.some((line) => /"level":"error".*backup failed: the file gone123/.test(line)));
    assert.deepEqual(fs.readdirSync(backupDir), [], 'no archive and no temporary file');
    await schedule.stop();
    db.close();
  });
});

describe('the schedule in the server process', () => {
  test('after a restart it does not run again at once when the newest archive is recent', async () => {
    const dir = tempDir('tb-restart-');
    const databasePath = path.join(dir, 'data', 'app.db');
    await prepareDatabase(databasePath);
    const backupDir = path.join(dir, 'backups');
    const env = { DATABASE_PATH: databasePath, UPLOADS_DIR: path.join(dir, 'uploads'), BACKUP_DIR: backupDir, LOG_LEVEL: 'info' };
    const first = await start(env, dir);
    await pollUntil(() => logLines(first).some((l) => typeof l.msg === 'string' && l.msg.startsWith('backup written to ')), 20_000, 'the first backup');
    assert.equal((await first.stop()).code, 0);
    const [newest] = listArchives(backupDir);
    assert.ok(newest);

    const second = await start(env, dir);
    const line = await pollUntil(
      () => logLines(second).find((l) => typeof l.msg === 'string' && l.msg.startsWith('backups: every ')) as { next: string } | undefined,
      10_000,
      'the schedule line',
    );
    assert.equal(Date.parse(line.next), newest.at + 24 * 60 * 60 * 1000);
    assert.equal((await second.stop()).code, 0);
    assert.ok(!logLines(second).some((l) => l.msg === 'backup started'));
    assert.equal(listArchives(backupDir).length, 1);
  });

  test('a second server on the same database is refused at start', async () => {
    const dir = tempDir('tb-twice-');
    const databasePath = path.join(dir, 'data', 'app.db');
    await prepareDatabase(databasePath);
    const env = { DATABASE_PATH: databasePath, UPLOADS_DIR: path.join(dir, 'uploads') };
    const first = await start(env, dir);
    const second = launchServer({ cwd: dir, env: { PORT: '0', HOST: '127.0.0.1', ...env } });
    servers.push(second);
    assert.equal((await second.exited).code, 1);
    assert.match(second.stderr(), /^ticketbridge: DATABASE_PATH .*app\.db is in use by another ticketbridge process \(a running server or a restore holds .*app\.db\.lock\); stop it first\n$/);
    assert.equal((await first.stop()).code, 0);
  });
});
