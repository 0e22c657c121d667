// Request-level tests: the real app, a temporary SQLite file, real HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { prepared } from '../../src/db/index.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';

let app: TestApp;

before(async () => {
  app = await startApp();
  await addUser(app.db, 'alice');
});
after(() => app.close());

function auditActions(): string[] {
  return recentAuditRows(app.db, 100).map((row) => row.action);
}

describe('routing', () => {
  test('/ redirects to the tickets list', async () => {
    const reply = await new Client(app.url).get('/');
    assert.equal(reply.status, 302);
    assert.equal(reply.location, '/index.php?view=tickets');
  });

  test('/index.php without a view goes to the tickets list', async () => {
    const reply = await new Client(app.url).get('/index.php');
    assert.equal(reply.status, 302);
    assert.equal(reply.location, '/index.php?view=tickets');
  });

  test('a signed-out visitor is sent to sign in, with the page kept as next', async () => {
    const reply = await new Client(app.url).get('/index.php?view=tickets&status=all');
    assert.equal(reply.status, 302);
    const location = new URL(reply.location!, app.url);
    assert.equal(location.searchParams.get('view'), 'login');
    assert.equal(location.searchParams.get('next'), '/index.php?view=tickets&status=all');
  });

  test('an unknown view is a styled 404 page', async () => {
    const reply = await new Client(app.url).get('/index.php?view=nope');
    assert.equal(reply.status, 404);
    assert.match(reply.headers.get('content-type') ?? '', /text\/html/);
    assert.match(reply.text, /<link rel="stylesheet" href="\/static\/app.css">/);
    assert.match(reply.text, /Not found/);
  });

  test('an unknown path is a 404 page, and a view name from Object.prototype is not a view', async () => {
    assert.equal((await new Client(app.url).get('/wp-admin')).status, 404);
    assert.equal((await new Client(app.url).get('/index.php?view=constructor')).status, 404);
    assert.equal((await new Client(app.url).get('/index.php?view=__proto__')).status, 404);
  });

  test('a repeated view parameter is a 400, not a crash', async () => {
    const reply = await new Client(app.url).get('/index.php?view=login&view=tickets');
    assert.equal(reply.status, 400);
    assert.match(reply.text, /must be given once/);
  });

  test('static files are served; paths outside public/ are not', async () => {
    const client = new Client(app.url);
    const js = await client.get('/static/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await client.get('/static/../package.json')).status, 404);
    assert.equal((await client.get('/static/%2e%2e/package.json')).status, 404);
    assert.equal((await client.get('/static/missing.css')).status, 404);
  });

  test('/healthz reports the database and the integrations as JSON', async () => {
    const reply = await new Client(app.url).get('/healthz');
    assert.equal(reply.status, 200);
    const body = JSON.parse(reply.text) as { status: string; database: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.database, 'ok');
  });
});

describe('security headers', () => {
  test('pages carry a strict CSP with no inline script, nosniff and no framing', async () => {
    const reply = await new Client(app.url).get('/index.php?view=login');
    const csp = reply.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(reply.headers.get('x-frame-options'), 'DENY');
    assert.equal(reply.headers.get('x-powered-by'), null);
    assert.doesNotMatch(reply.text, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page');
  });

  test('the session cookie is httpOnly and SameSite=Lax', async () => {
    const reply = await new Client(app.url).get('/index.php?view=login');
    const cookie = reply.headers.getSetCookie().find((line) => line.startsWith('tb_session='));
    assert.ok(cookie, 'the login page starts a session for its CSRF token');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/, 'plain http on loopback gets no Secure flag');
  });

  test('behind a TLS-terminating proxy on loopback the cookie is Secure', async () => {
    const reply = await new Client(app.url, { 'x-forwarded-proto': 'https' }).get('/index.php?view=login');
    const cookie = reply.headers.getSetCookie().find((line) => line.startsWith('tb_session='));
    assert.match(cookie ?? '', /Secure/);
  });
});

describe('sign in', () => {
  test('the login page has a form with username, password and a CSRF token', async () => {
    const reply = await new Client(app.url).get('/index.php?view=login');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /<form method="post" action="\/index.php\?view=login"/);
    assert.match(reply.text, /name="username"/);
    assert.match(reply.text, /name="password" type="password"/);
    assert.ok(csrfFrom(reply.text));
  });

  test('without a CSRF token the login is refused with 403 and nobody is signed in', async () => {
    const client = new Client(app.url);
    await client.get('/index.php?view=login');
    const reply = await client.post('/index.php?view=login', { username: 'alice', password: 'correct horse battery' });
    assert.equal(reply.status, 403);
    assert.match(reply.text, /Reload the page and try again/);
    assert.equal((await client.get('/index.php?view=tickets')).status, 302);
  });

  test('a token from another session is refused too', async () => {
    const other = await new Client(app.url).csrf();
    const client = new Client(app.url);
    await client.get('/index.php?view=login');
    const reply = await client.post('/index.php?view=login', { _csrf: other, username: 'alice', password: 'correct horse battery' });
    assert.equal(reply.status, 403);
  });

  test('a wrong password answers 401 with the form again and writes an audit row', async () => {
    const client = new Client(app.url, { 'x-forwarded-for': '198.51.100.7' });
    const _csrf = await client.csrf();
    const reply = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: 'wrong password' });
    assert.equal(reply.status, 401);
    assert.match(reply.text, /Wrong username or password/);
    assert.match(reply.text, /value="alice"/, 'the username is kept');
    const row = recentAuditRows(app.db, 10).find((r) => r.action === 'login.failure' && r.ip === '198.51.100.7');
    assert.ok(row, 'a login.failure row with the client ip');
    assert.equal(row.actorName, 'alice');
    assert.equal(JSON.parse(row.details ?? '{}').reason, 'wrong_password');
    assert.ok(Date.now() - row.at < 60_000);
  });

  test('an unknown user gets the same answer as a wrong password', async () => {
    const client = new Client(app.url, { 'x-forwarded-for': '198.51.100.8' });
    const _csrf = await client.csrf();
    const reply = await client.post('/index.php?view=login', { _csrf, username: 'nobody', password: 'whatever1' });
    assert.equal(reply.status, 401);
    assert.match(reply.text, /Wrong username or password/);
  });

  test('missing fields re-render the form with a message per field (400)', async () => {
    const client = new Client(app.url);
    const _csrf = await client.csrf();
    const reply = await client.post('/index.php?view=login', { _csrf, username: '  ' });
    assert.equal(reply.status, 400);
    assert.match(reply.text, /Enter your username/);
    assert.match(reply.text, /Enter your password/);
  });

  test('an unexpected form field is a 400', async () => {
    const client = new Client(app.url);
    const _csrf = await client.csrf();
    const reply = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: 'x', role: 'admin' });
    assert.equal(reply.status, 400);
    assert.match(reply.text, /Unexpected form field: role/);
  });

  test('success redirects (303) to the tickets page with a new session id, and is audited', async () => {
    const client = new Client(app.url);
    const _csrf = await client.csrf();
    const before = client.cookies.get('tb_session');
    const reply = await client.post('/index.php?view=login', { _csrf, username: 'ALICE', password: 'correct horse battery' });
    assert.equal(reply.status, 303);
    assert.equal(reply.location, '/index.php?view=tickets');
    const afterSid = client.cookies.get('tb_session');
    assert.ok(before && afterSid && before !== afterSid, 'the session id changes on sign-in');
    const page = await client.get('/index.php?view=tickets');
    assert.equal(page.status, 200);
    assert.match(page.text, /alice<\/bdi> · Player/);
    assert.ok(auditActions().includes('login.success'));

    // The old (pre-login) session id is worth nothing now.
    const stale = new Client(app.url);
    stale.cookies.set('tb_session', before);
    assert.equal((await stale.get('/index.php?view=tickets')).status, 302);
  });

  test('next is followed when it stays on this site, ignored otherwise', async () => {
    const cases: [string, string][] = [
      ['/index.php?view=tickets&status=all', '/index.php?view=tickets&status=all'],
      ['//evil.example/x', '/index.php?view=tickets'],
      ['https://evil.example/', '/index.php?view=tickets'],
      ['/\\evil.example', '/index.php?view=tickets'],
      ['javascript:alert(1)', '/index.php?view=tickets'],
    ];
    for (const [next, expected] of cases) {
      const client = new Client(app.url);
      const _csrf = await client.csrf();
      const reply = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: 'correct horse battery', next });
      assert.equal(reply.status, 303, next);
      assert.equal(reply.location, expected, next);
    }
  });

  test('the next parameter survives the login form', async () => {
    const reply = await new Client(app.url).get('/index.php?view=login&next=%2Findex.php%3Fview%3Dtickets%26q%3Dx');
    assert.match(reply.text, /name="next" value="\/index.php\?view=tickets&amp;q=x"/);
  });

  test('a signed-in user visiting login is sent on', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    const reply = await client.get('/index.php?view=login');
    assert.equal(reply.status, 302);
    assert.equal(reply.location, '/index.php?view=tickets');
  });

  test('more than ten failures a minute from one address answer 429; other addresses are not affected', async () => {
    const client = new Client(app.url, { 'x-forwarded-for': '203.0.113.50' });
    for (let i = 1; i <= 10; i += 1) {
      const _csrf = await client.csrf();
      const reply = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: `guess ${i}` });
      assert.equal(reply.status, 401, `attempt ${i}`);
    }
    const _csrf = await client.csrf();
    const refused = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: 'correct horse battery' });
    assert.equal(refused.status, 429, 'even the right password is refused while limited');
    assert.match(refused.text, /Too many failed sign-in attempts/);
    assert.equal((await client.get('/index.php?view=tickets')).status, 302, 'not signed in');

    const other = new Client(app.url, { 'x-forwarded-for': '203.0.113.51' });
    assert.equal((await other.login('alice')).status, 303);
  });

  test('successful sign-ins do not count toward the limit', async () => {
    for (let i = 0; i < 12; i += 1) {
      const reply = await new Client(app.url, { 'x-forwarded-for': '203.0.113.60' }).login('alice');
      assert.equal(reply.status, 303, `sign-in ${i + 1}`);
    }
  });
});

describe('sessions', () => {
  test('sessions live in SQLite and survive a restart of the app', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    const rows = prepared(app.db, 'SELECT COUNT(*) AS n FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)').get('alice') as { n: number };
    assert.ok(rows.n >= 1);

    const restarted = await startApp({ dir: app.dir, db: app.db });
    try {
      const again = new Client(restarted.url);
      for (const [name, value] of client.cookies) again.cookies.set(name, value);
      const page = await again.get('/index.php?view=tickets');
      assert.equal(page.status, 200);
      assert.match(page.text, /alice<\/bdi> · Player/);
    } finally {
      await restarted.close();
    }
  });

  test('logout is POST only, needs the CSRF token, ends the session and is audited', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    const page = await client.get('/index.php?view=tickets');
    const _csrf = csrfFrom(page.text)!;

    const viaGet = await client.get('/index.php?view=logout');
    assert.equal(viaGet.status, 405);
    assert.match(viaGet.headers.get('allow') ?? '', /POST/);

    assert.equal((await client.post('/index.php?view=logout', {})).status, 403);
    assert.equal((await client.get('/index.php?view=tickets')).status, 200, 'still signed in');

    const sid = decodeURIComponent(client.cookies.get('tb_session')!).slice(2).split('.')[0];
    const reply = await client.post('/index.php?view=logout', { _csrf });
    assert.equal(reply.status, 303);
    assert.equal(reply.location, '/index.php?view=login&signed_out=1');
    assert.equal(prepared(app.db, 'SELECT 1 FROM sessions WHERE sid = ?').get(sid), undefined, 'the session row is gone');
    assert.equal((await client.get('/index.php?view=tickets')).status, 302);
    const rows = recentAuditRows(app.db, 20).filter((r) => r.action === 'logout' && r.actorName === 'alice');
    assert.ok(rows.length >= 1);
    assert.match((await client.get('/index.php?view=login&signed_out=1')).text, /You have been signed out/);
  });

  test('a posted form without a session is sent to sign in, not run', async () => {
    const reply = await new Client(app.url).post('/index.php?view=logout', { _csrf: 'x' });
    assert.equal(reply.status, 303);
    assert.match(reply.location ?? '', /view=login/);
  });
});

describe('the tickets page', () => {
  test('shows the list columns in the order of the user guide, and the badge hook', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    const page = await client.get('/index.php?view=tickets');
    assert.match(page.text, /data-waiting-count="0"/);
    assert.match(page.text, /You have no tickets yet/);
    // With a ticket, the table and its columns.
    const withTicket = await addUser(app.db, 'alice_has_one');
    createWebTicket(app.db, { user: withTicket, subject: 'First one', body: 'Hello', priority: 'normal', uploads: [] }, { ip: null });
    const other = new Client(app.url);
    await other.login('alice_has_one');
    const listed = await other.get('/index.php?view=tickets');
    const headers = [...listed.text.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]);
    assert.deepEqual(headers, ['#', 'Subject', 'Status', 'Priority', 'Messages', 'Created', 'Updated']);
  });

  test('the sidebar renders collapsed when the visitor collapsed it before', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    assert.doesNotMatch((await client.get('/index.php?view=tickets')).text, /sidebar-collapsed/);
    client.cookies.set('tb_sidebar', 'collapsed');
    assert.match((await client.get('/index.php?view=tickets')).text, /<body class="signed-in sidebar-collapsed"/);
  });
});

describe('errors', () => {
  test('a failure inside the app is a 500 page with a reference id and no stack; the log has both', async () => {
    const broken = await startApp();
    try {
      await addUser(broken.db, 'bob');
      const client = new Client(broken.url);
      await client.login('bob');
      broken.db.exec('ALTER TABLE users RENAME TO users_gone');
      const reply = await client.get('/index.php?view=tickets');
      assert.equal(reply.status, 500);
      const reference = /data-error-reference>([0-9a-f]{8})</.exec(reply.text)?.[1];
      assert.ok(reference, 'the page shows a reference id');
      assert.doesNotMatch(reply.text, /no such table|SqliteError|\bat \S+ \(|\.ts:\d+/);
      const logged = broken.logs.find((line) => line.reference === reference);
      assert.ok(logged, 'the same reference is in the log');
      assert.match(JSON.stringify(logged.err), /no such table/);
    } finally {
      await broken.close();
    }
  });

  test('a malformed form body is a 400, not a 500', async () => {
    const client = new Client(app.url);
    await client.get('/index.php?view=login');
    const reply = await client.request('POST', '/index.php?view=login', '%E0%A4%A', {
      'content-type': 'application/x-www-form-urlencoded; charset=latin-9',
    });
    assert.ok(reply.status >= 400 && reply.status < 500, `status ${reply.status}`);
  });
});
