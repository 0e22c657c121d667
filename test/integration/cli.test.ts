// The admin CLI, run as a user runs it (a child process on a temporary database).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { authenticate } from '../../src/accounts.js';
import { recentAuditRows } from '../../src/db/audit.js';
import { openDatabase } from '../../src/db/index.js';
import { saveSession, sessionExists } from '../../src/db/sessions.js';
import { userByUsername } from '../../src/db/users.js';
import { tempDir } from '../helpers/app.js';
import { runSync } from '../helpers/process.js';

const dir = tempDir();
const databasePath = path.join(dir, 'app.db');

function cli(...args: string[]) {
  return runSync('src/cli.ts', args, { cwd: dir, env: { DATABASE_PATH: databasePath } });
}

test('user:add creates an account that can sign in, with role, email and game account', async () => {
  const result = cli('user:add', 'gm_anna', '--password', 'anna-password-1', '--role', 'staff', '--email', 'anna@example.org', '--game-account', '2000001');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /created user gm_anna \(id \d+, role staff\)/);
  const { db } = openDatabase(databasePath);
  try {
    const user = userByUsername(db, 'gm_anna')!;
    assert.equal(user.role, 'staff');
    assert.equal(user.email, 'anna@example.org');
    assert.equal(user.gameAccountId, 2000001);
    assert.equal((await authenticate(db, 'gm_anna', 'anna-password-1')).ok, true);
    assert.ok(recentAuditRows(db, 10).some((row) => row.action === 'user.create' && row.actorName === 'cli'));
  } finally {
    db.close();
  }
});

test('user:add refuses duplicates, bad roles and weak passwords with a clear line', () => {
  cli('user:add', 'bob', '--password', 'bob-password-1');
  const duplicate = cli('user:add', 'BOB', '--password', 'bob-password-2');
  assert.equal(duplicate.code, 1);
  assert.equal(duplicate.stderr.trim(), 'ticketbridge: username is already taken');

  const badRole = cli('user:add', 'carol', '--password', 'carol-password', '--role', 'god');
  assert.equal(badRole.code, 2);
  assert.match(badRole.stderr, /--role must be one of user, staff, admin/);

  const weak = cli('user:add', 'dave', '--password', 'short');
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /password must be at least 8 characters/);

  const noPassword = cli('user:add', 'erin');
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /needs --password/);
});

test('user:list shows every account', () => {
  const result = cli('user:list');
  assert.equal(result.code, 0);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0]!, /^id\s+username\s+role\s+email\s+game account\s+state\s+last login/);
  assert.ok(lines.some((line) => /\bgm_anna\s+staff\s+anna@example.org\s+2000001\s+active/.test(line)));
  assert.ok(lines.some((line) => /\bbob\s+user\b/.test(line)));
});

test('user:passwd sets a given password or prints a new random one', async () => {
  assert.equal(cli('user:passwd', 'bob', '--password', 'new-bob-password').code, 0);
  const generated = cli('user:passwd', 'bob');
  assert.equal(generated.code, 0);
  const password = /new password for bob: (\S+)/.exec(generated.stdout)?.[1];
  assert.ok(password);
  const { db } = openDatabase(databasePath);
  try {
    assert.equal((await authenticate(db, 'bob', 'new-bob-password')).ok, false);
    assert.equal((await authenticate(db, 'bob', password)).ok, true);
  } finally {
    db.close();
  }
  const missing = cli('user:passwd', 'nobody');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no user named "nobody"/);
});

test('db:backup writes a consistent copy that opens on its own', () => {
  const backup = path.join(dir, 'backups', 'copy.db');
  const result = cli('db:backup', backup);
  assert.equal(result.code, 0, result.stderr);
  const { db } = openDatabase(backup);
  try {
    assert.ok(userByUsername(db, 'gm_anna'));
  } finally {
    db.close();
  }
});

test('an unknown command prints the usage and exits 2', () => {
  const result = cli('user:delete', 'bob');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command "user:delete"/);
  assert.match(result.stderr, /usage: npm run cli -- <command>/);
});

test('demo adds a player, staff and tickets in every status, once', async () => {
  const { listTickets } = await import('../../src/db/tickets.js');
  const result = cli('demo');
  assert.equal(result.code, 0, result.stderr);
  const password = /player: demo \/ (\S+)/.exec(result.stdout)?.[1];
  assert.ok(password);
  const { db } = openDatabase(databasePath);
  try {
    assert.equal((await authenticate(db, 'demo', password)).ok, true);
    const demo = userByUsername(db, 'demo')!;
    const tickets = listTickets(db, { userId: demo.id, status: 'all', terms: [], limit: 50, offset: 0 });
    assert.deepEqual([...new Set(tickets.map((t) => t.status))].sort(), ['answered', 'closed', 'in_progress', 'open', 'waiting_user']);
  } finally {
    db.close();
  }
  const again = cli('demo');
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already there/);
});

test('user:passwd ends the account\'s sessions, as a reset on the users page does (issue #13)', () => {
  cli('user:add', 'sessioned', '--password', 'sessioned-password-1');
  const { db } = openDatabase(databasePath);
  try {
    const user = userByUsername(db, 'sessioned')!;
    saveSession(db, 'sid-of-sessioned', user.id, JSON.stringify({ cookie: {}, userId: user.id }), Date.now() + 60_000);
  } finally {
    db.close();
  }
  const result = cli('user:passwd', 'sessioned', '--password', 'a-new-password-2');
  assert.equal(result.code, 0, result.stderr);
  const reopened = openDatabase(databasePath).db;
  try {
    assert.equal(sessionExists(reopened, 'sid-of-sessioned'), false, 'signed out');
    const audit = recentAuditRows(reopened, 5).filter((row) => row.action === 'user.password_reset');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actorName, 'cli');
  } finally {
    reopened.close();
  }
});

test('user:add writes exactly one user.create row', () => {
  cli('user:add', 'onerow', '--password', 'onerow-password-1');
  const { db } = openDatabase(databasePath);
  try {
    const rows = recentAuditRows(db, 50).filter((row) => row.action === 'user.create' && row.details?.includes('"onerow"'));
    assert.equal(rows.length, 1);
  } finally {
    db.close();
  }
});
