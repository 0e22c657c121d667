// Sessions and accounts are remembered between requests (src/db/readCache.ts), and a session's
// lifetime is renewed at most once an hour (src/web/app.ts): what a user would notice must not
// change. A session ended or an account disabled anywhere (another connection, the CLI, a page of
// this process) is ended on the very next request; the lifetime still slides; the headers are as
// helmet makes them.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, prepared } from '../../src/db/index.js';
import { deleteUserSessions } from '../../src/db/sessions.js';
import { updateTicketStatus } from '../../src/db/tickets.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { setUserDisabled, type User } from '../../src/db/users.js';
import { addUser, Client, startApp, tempDir, type TestApp } from '../helpers/app.js';
import { runSync } from '../helpers/process.js';

const LIST = '/index.php?view=tickets';
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

let app: TestApp;
const statements: string[] = [];

before(async () => {
  const dir = tempDir();
  const { db } = openDatabase(path.join(dir, 'app.db'), { onStatement: (sql) => statements.push(sql) });
  app = await startApp({ dir, db });
});
after(() => app.close());

/** A signed-in player whose list page answers 200 (so their session is remembered by now). */
async function signedIn(username: string): Promise<{ client: Client; user: User; sid: string }> {
  const user = await addUser(app.db, username);
  const client = new Client(app.url);
  await client.login(username);
  assert.equal((await client.get(LIST)).status, 200);
  assert.equal((await client.get(LIST)).status, 200);
  const sid = decodeURIComponent(client.cookies.get('tb_session')!).replace(/^s:/, '').split('.')[0]!;
  return { client, user, sid };
}

async function isSignedOut(client: Client): Promise<boolean> {
  const page = await client.get(LIST);
  return page.status === 302 && /view=login/.test(page.location ?? '');
}

/** A second connection to the app's database, as another process or the CLI would have. */
function otherConnection<T>(work: (db: ReturnType<typeof openDatabase>['db']) => T): T {
  const { db } = openDatabase(app.config.databasePath);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

describe('a session ended elsewhere is ended on the next request', () => {
  test('by another connection', async () => {
    const { client, user } = await signedIn('erin');
    otherConnection((db) => deleteUserSessions(db, user.id));
    assert.ok(await isSignedOut(client));
  });

  test('by the CLI (user:passwd ends the sessions from its own process)', async () => {
    const { client } = await signedIn('fritz');
    const result = runSync('src/cli.ts', ['user:passwd', 'fritz', '--password', 'a-new-password-42'], { cwd: app.dir, env: { DATABASE_PATH: app.config.databasePath } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await isSignedOut(client));
  });

  test('by this process on its own connection', async () => {
    const { client, user } = await signedIn('gina');
    deleteUserSessions(app.db, user.id);
    assert.ok(await isSignedOut(client));
  });
});

describe('a disabled account is signed out on the next request', () => {
  test('disabled from another connection, its sessions left in place', async () => {
    const { client, user } = await signedIn('hugo');
    otherConnection((db) => setUserDisabled(db, user.id, Date.now()));
    assert.ok(await isSignedOut(client));
  });

  test('disabled on this connection, its sessions left in place', async () => {
    const { client, user } = await signedIn('iris');
    setUserDisabled(app.db, user.id, Date.now());
    assert.ok(await isSignedOut(client));
  });
});

describe('the sliding lifetime', () => {
  test('a session is renewed, cookie and row alike, once its last renewal is over an hour old', async () => {
    const { client, sid } = await signedIn('jana');
    const stored = () => prepared(app.db, 'SELECT data, expires_at AS expiresAt FROM sessions WHERE sid = ?').get(sid) as { data: string; expiresAt: number };
    // Two hours after the last renewal, as the table would hold it then.
    const aged = Date.now() + WEEK_MS - 2 * 60 * 60 * 1000;
    otherConnection((db) => {
      const data = JSON.parse(stored().data) as { cookie: { expires: string } };
      data.cookie.expires = new Date(aged).toISOString();
      prepared(db, 'UPDATE sessions SET data = ?, expires_at = ? WHERE sid = ?').run(JSON.stringify(data), aged, sid);
    });
    const before = Date.now();
    const page = await client.get(LIST);
    assert.equal(page.status, 200);
    const cookie = page.headers.getSetCookie().find((line) => line.startsWith('tb_session='));
    assert.ok(cookie, 'the renewed cookie is sent');
    const cookieExpires = Date.parse(/Expires=([^;]+)/i.exec(cookie)![1]!);
    assert.ok(cookieExpires >= before + WEEK_MS - 1000, 'the cookie lives a week from now');
    assert.ok(stored().expiresAt >= before + WEEK_MS - 1000, 'so does the stored session');
    assert.ok(Math.abs(stored().expiresAt - cookieExpires) < 1000, 'cookie and table agree');
  });

  test('a fresh session is neither written nor sent again on the next page', async () => {
    const { client, sid } = await signedIn('kurt');
    const expiresAt = () => (prepared(app.db, 'SELECT expires_at AS e FROM sessions WHERE sid = ?').get(sid) as { e: number }).e;
    const was = expiresAt();
    const page = await client.get(LIST);
    assert.equal(page.status, 200);
    assert.equal(page.headers.getSetCookie().find((line) => line.startsWith('tb_session=')), undefined);
    assert.equal(expiresAt(), was);
  });
});

describe('the badges', () => {
  test('a ticket waiting for its player, or for Support, shows on the next page even when changed elsewhere', async () => {
    const { client, user } = await signedIn('mona');
    await addUser(app.db, 'nils', undefined, 'staff');
    const staffClient = new Client(app.url);
    await staffClient.login('nils');
    const waiting = async () => /data-waiting-count="(\d+)"/.exec((await client.get(LIST)).text)![1];
    const queue = async () => Number(/data-support-count="(\d+)"/.exec((await staffClient.get(LIST)).text)![1]);
    assert.equal(await waiting(), '0');
    const before = await queue();
    const ticketId = createWebTicket(app.db, { user, subject: 'Badge', body: 'help', priority: 'normal', uploads: [] }, { ip: null });
    assert.equal(await queue(), before + 1, 'a new open ticket counts for Support');
    otherConnection((db) => updateTicketStatus(db, ticketId, 'waiting_user', Date.now()));
    assert.equal(await waiting(), '1');
    assert.equal(await queue(), before);
  });
});

describe('a list page reads only what it shows', () => {
  test('a signed-in page reads no session or account row when nothing changed since the last one', async () => {
    const { client } = await signedIn('lena');
    statements.length = 0;
    assert.equal((await client.get(LIST)).status, 200);
    const read = statements.map((sql) => sql.replace(/\s+/g, ' '));
    assert.deepEqual(read.filter((sql) => /FROM (sessions|users)\b/.test(sql)), []);
    assert.deepEqual(read.filter((sql) => /^(INSERT|UPDATE|DELETE)/i.test(sql)), [], 'and writes nothing');
  });
});

describe('security headers', () => {
  test('every page carries the same set helmet made for it', async () => {
    const reply = await new Client(app.url).get('/index.php?view=login');
    const expected: Record<string, string> = {
      'content-security-policy':
        "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none';object-src 'none'",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'DENY',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(reply.headers.get(name), value, name);
    assert.equal(reply.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
    assert.equal(reply.headers.get('x-powered-by'), null);
  });

  test('over https: HSTS and upgrade-insecure-requests', async () => {
    const secure = await startApp({ env: { APP_URL: 'https://support.example.org' } });
    try {
      const reply = await new Client(secure.url).get('/index.php?view=login');
      assert.equal(reply.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
      assert.match(reply.headers.get('content-security-policy') ?? '', /;upgrade-insecure-requests$/);
    } finally {
      await secure.close();
    }
  });
});
