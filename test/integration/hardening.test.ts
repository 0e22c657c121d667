// Issue #12, the web side: what one signed-in player could do to the whole desk. Each test here
// failed on the code before its fix.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, prepared } from '../../src/db/index.js';
import { deleteUserSessions } from '../../src/db/sessions.js';
import { setUserDisabled, setUserRole, userByUsername, type User } from '../../src/db/users.js';
import { createAccount } from '../../src/accounts.js';
import { recordAudit } from '../../src/audit.js';
import { DEFAULT_WHISPER_TEMPLATES, saveNotificationSwitches } from '../../src/settings.js';
import { receiveGameMessage } from '../../src/tickets/game.js';
import { limits } from '../../src/tickets/quotas.js';
import { createWebTicket, replyAsPlayer } from '../../src/tickets/service.js';
import { CONVERSATION_PAGE_SIZE, MESSAGE_FOLD_AT } from '../../src/web/handlers/ticket.js';
import { SqliteSessionStore } from '../../src/web/sessionStore.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { addUser, Client, PNG_BYTES, startApp, tempDir, uploadedFiles, type TestApp } from '../helpers/app.js';

let app: TestApp;
let alice: User;

before(async () => {
  app = await startApp();
  alice = await addUser(app.db, 'alice');
});
after(() => app.close());

function messageIds(html: string): number[] {
  return [...html.matchAll(/<li class="message[^"]*" id="message-(\d+)"/g)].map((m) => Number(m[1]));
}

describe('a ticket page renders a bounded amount', () => {
  test('a long conversation is paged, newest page first, with links both ways', async () => {
    const context = { ip: null };
    const ticketId = createWebTicket(app.db, { user: alice, subject: 'Long one', body: 'message 1', priority: 'normal', uploads: [] }, context);
    const total = CONVERSATION_PAGE_SIZE * 2 + 17;
    for (let i = 2; i <= total; i++) replyAsPlayer(app.db, { ticketId, user: alice, body: `message ${i}`, uploads: [] }, context);
    const client = new Client(app.url);
    await client.login('alice');

    const latest = await client.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.equal(latest.status, 200);
    const shown = messageIds(latest.text);
    assert.equal(shown.length, 17, 'the last page holds what is left after full pages');
    assert.match(latest.text, />message 217</);
    assert.doesNotMatch(latest.text, />message 200</);
    assert.match(latest.text, /Messages page 3 of 3/);
    const earlier = /href="([^"]+)" rel="prev"/.exec(latest.text)?.[1]?.replaceAll('&amp;', '&');
    assert.equal(earlier, `/index.php?view=ticket&id=${ticketId}&page=2`);

    const first = await client.get(`/index.php?view=ticket&id=${ticketId}&page=1`);
    assert.equal(messageIds(first.text).length, CONVERSATION_PAGE_SIZE);
    assert.match(first.text, />message 1</);
    assert.match(first.text, /rel="next"/);
    assert.doesNotMatch(first.text, /rel="prev"/);

    assert.equal((await client.get(`/index.php?view=ticket&id=${ticketId}&page=4`)).status, 404);
    assert.equal((await client.get(`/index.php?view=ticket&id=${ticketId}&page=0`)).status, 404);
  });

  test('a very long message is folded with a link that shows it whole', async () => {
    const body = `${'a'.repeat(MESSAGE_FOLD_AT)}TAIL-OF-THE-MESSAGE`;
    const ticketId = createWebTicket(app.db, { user: alice, subject: 'Wall of text', body, priority: 'normal', uploads: [] }, { ip: null });
    const client = new Client(app.url);
    await client.login('alice');
    const page = await client.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.doesNotMatch(page.text, /TAIL-OF-THE-MESSAGE/);
    const link = /<a class="read-more" href="([^"]+)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(link, 'a link to read the whole message');
    assert.match(page.text, /Read the whole message \(3,019 characters\)/);
    const whole = await client.get(link);
    assert.equal(whole.status, 200);
    assert.match(whole.text, /TAIL-OF-THE-MESSAGE/);
  });
});

describe('sign-in redirects stay on this site', () => {
  // Each of these resolves to `//evil.example` (another site) once a URL parser has read it.
  const tricks = ['/.//evil.example', '/..//evil.example', '/%2e%2e//evil.example', '/x/..//evil.example', '/./..//evil.example/x?y=1', '/static/app.css', '/api/game/whispers'];

  test('at sign-in (POST), only a page of the app may follow', async () => {
    for (const next of tricks) {
      const client = new Client(app.url);
      const _csrf = await client.csrf();
      const reply = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: 'correct horse battery', next });
      assert.equal(reply.status, 303, next);
      assert.equal(reply.location, '/index.php?view=tickets', next);
    }
  });

  test('when already signed in (GET), the same', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    for (const next of tricks) {
      const reply = await client.get(`/index.php?view=login&next=${encodeURIComponent(next)}`);
      assert.equal(reply.status, 302, next);
      assert.equal(reply.location, '/index.php?view=tickets', next);
    }
    const kept = await client.get(`/index.php?view=login&next=${encodeURIComponent('/index.php?view=ticket&id=3')}`);
    assert.equal(kept.location, '/index.php?view=ticket&id=3');
  });
});

/**
 * A multipart POST sent in two halves: the text fields and the start of a file, then (after the
 * test has changed something) the rest. Resolves the answer's status and Location.
 */
function slowMultipart(base: string, path: string, cookies: Map<string, string>, fields: Record<string, string>) {
  const boundary = '----tbslow';
  const head = Buffer.concat([
    ...Object.entries(fields).map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="shot.png"\r\nContent-Type: image/png\r\n\r\n`),
    PNG_BYTES,
  ]);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(path, base);
  const req = http.request(url, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + tail.length), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  const answer = new Promise<{ status: number; location: string | undefined; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text }));
    });
    req.on('error', reject);
  });
  req.write(head);
  return { answer, finish: () => (req.end(tail), answer) };
}

describe('a request in flight when its account changes stores nothing', () => {
  let bob: User;
  let uploadsDir: string;

  before(async () => {
    bob = await addUser(app.db, 'bob');
    uploadsDir = app.config.uploadsDir;
  });

  async function startCreate(client: Client) {
    const _csrf = await client.csrf('/index.php?view=ticket_create');
    const before = uploadedFiles(uploadsDir).length;
    const slow = slowMultipart(app.url, '/index.php?view=ticket_create', client.cookies, { _csrf, subject: 'In flight', message: 'Sent slowly' });
    // The server is writing the file: the session was read and the account looked at already.
    await pollUntil(() => uploadedFiles(uploadsDir).length > before, 5000, 'the upload to start');
    return slow;
  }

  const ticketsNamed = (subject: string) => (prepared(app.db, 'SELECT COUNT(*) AS n FROM tickets WHERE subject = ?').get(subject) as { n: number }).n;

  test('disabled meanwhile: 401, no ticket, no file', async () => {
    const client = new Client(app.url);
    await client.login('bob');
    const slow = await startCreate(client);
    setUserDisabled(app.db, bob.id, Date.now());
    deleteUserSessions(app.db, bob.id);
    const answer = await slow.finish();
    setUserDisabled(app.db, bob.id, null);
    assert.equal(answer.status, 401);
    assert.match(answer.text, /Nothing was saved/);
    assert.equal(ticketsNamed('In flight'), 0);
    assert.deepEqual(uploadedFiles(uploadsDir), []);
  });

  test('password reset meanwhile (sessions ended, account still active): 401, nothing stored, and the session stays ended', async () => {
    const client = new Client(app.url);
    await client.login('bob');
    const sid = decodeURIComponent(client.cookies.get('tb_session')!).replace(/^s:/, '').split('.')[0]!;
    const slow = await startCreate(client);
    deleteUserSessions(app.db, bob.id);
    const answer = await slow.finish();
    assert.equal(answer.status, 401);
    assert.equal(ticketsNamed('In flight'), 0);
    assert.equal(prepared(app.db, 'SELECT 1 FROM sessions WHERE sid = ?').get(sid), undefined, 'the ended session was not written back');
    assert.equal((await client.get('/index.php?view=tickets')).status, 302, 'signed out');
  });

  test('staff demoted meanwhile cannot finish a Support reply to another player\'s ticket', async () => {
    const carol = await addUser(app.db, 'carol', undefined, 'staff');
    const ticketId = createWebTicket(app.db, { user: alice, subject: 'Needs Support', body: 'help', priority: 'normal', uploads: [] }, { ip: null });
    const client = new Client(app.url);
    await client.login('carol');
    const _csrf = await client.csrf(`/index.php?view=ticket&id=${ticketId}`);
    const before = uploadedFiles(uploadsDir).length;
    const slow = slowMultipart(app.url, `/index.php?view=ticket&id=${ticketId}&action=reply`, client.cookies, { _csrf, message: 'Answer from a former staff member', status: 'answered' });
    await pollUntil(() => uploadedFiles(uploadsDir).length > before, 5000, 'the upload to start');
    setUserRole(app.db, carol.id, 'user');
    const answer = await slow.finish();
    assert.notEqual(answer.status, 303);
    assert.equal((prepared(app.db, "SELECT COUNT(*) AS n FROM messages WHERE body = 'Answer from a former staff member'").get() as { n: number }).n, 0);
    assert.deepEqual(uploadedFiles(uploadsDir), []);
  });

  test('the session store never writes back a session that was destroyed', () => {
    const store = new SqliteSessionStore(app.db);
    const data = { cookie: { originalMaxAge: 60_000 }, userId: bob.id } as never;
    store.set('sid-that-ends', data);
    store.destroy('sid-that-ends');
    store.set('sid-that-ends', data);
    let loaded: unknown = 'not called';
    store.get('sid-that-ends', (_err, session) => (loaded = session));
    store.close();
    assert.equal(loaded, null);
  });
});

describe('request time is bounded', () => {
  test('a body that never finishes is cut off with 408 and stores nothing', async () => {
    const slowApp = await startApp({ timeouts: { headersMs: 1000, requestMs: 1500, checkEveryMs: 200 } });
    try {
      await addUser(slowApp.db, 'dave');
      const client = new Client(slowApp.url);
      await client.login('dave');
      const _csrf = await client.csrf('/index.php?view=ticket_create');
      const slow = slowMultipart(slowApp.url, '/index.php?view=ticket_create', client.cookies, { _csrf, subject: 'Never finished', message: 'x' });
      // Never finished: the server answers on its own once the request has taken too long.
      const answer = await slow.answer;
      assert.equal(answer.status, 408);
      assert.equal((prepared(slowApp.db, "SELECT COUNT(*) AS n FROM tickets WHERE subject = 'Never finished'").get() as { n: number }).n, 0);
      await pollUntil(() => uploadedFiles(slowApp.config.uploadsDir).length === 0, 5000, 'the half-written file to be removed');
    } finally {
      await slowApp.close();
    }
  });
});

describe('guessing the current password on the settings page', () => {
  test('is limited like sign-in: after 10 wrong guesses a minute, 429 even for the right one', async () => {
    await addUser(app.db, 'erin');
    const client = new Client(app.url);
    await client.login('erin');
    const _csrf = await client.csrf('/index.php?view=settings');
    const attempt = (current: string) =>
      client.post('/index.php?view=settings&action=password', { _csrf, current_password: current, new_password: 'a brand new password', confirm_password: 'a brand new password' });
    for (let i = 0; i < 10; i++) assert.equal((await attempt(`guess number ${i}`)).status, 422, `guess ${i}`);
    const blocked = await attempt('correct horse battery');
    assert.equal(blocked.status, 429);
    assert.equal(blocked.headers.get('retry-after'), '60');
    assert.match(blocked.text, /Too many wrong current passwords/);
    // The password did not change.
    const again = new Client(app.url);
    assert.equal((await again.login('erin')).status, 303);
  });
});

describe('confirmation mails', () => {
  let mailApp: TestApp;
  before(async () => {
    mailApp = await startApp({ env: { SMTP_URL: 'smtp://127.0.0.1:2525' } });
  });
  after(() => mailApp.close());

  const verifyMails = () => prepared(mailApp.db, "SELECT json_extract(payload, '$.email') AS email FROM notification_outbox WHERE event = 'verify_email' ORDER BY id").all() as { email: string }[];

  async function signedIn(name: string) {
    await addUser(mailApp.db, name);
    const client = new Client(mailApp.url);
    await client.login(name);
    const save = async (email: string) => {
      const _csrf = await client.csrf('/index.php?view=settings');
      return client.post('/index.php?view=settings&action=email', { _csrf, email });
    };
    return Object.assign(save, { client });
  }

  test('none while the administrators have email switched off: the address is saved and the page says why', async () => {
    const save = await signedIn('frank');
    const reply = await save('frank@example.org');
    assert.equal(reply.status, 303);
    assert.deepEqual(verifyMails(), []);
    const page = await save.client.get(reply.location!);
    assert.match(page.text, /no confirmation mail was sent/);
    assert.doesNotMatch(page.text, /follow the link we sent/i);
  });

  test('at most 5 an hour per account and 3 a day per address, then 429 and nothing changes', async () => {
    saveNotificationSwitches(mailApp.db, { email: true, telegram: false });
    const save = await signedIn('gina');
    for (let i = 1; i <= 5; i++) assert.equal((await save(`gina${i}@example.org`)).status, 303, `mail ${i}`);
    const refused = await save('gina6@example.org');
    assert.equal(refused.status, 429);
    assert.match(refused.text, /Too many confirmation mails/);
    assert.equal(verifyMails().filter((m) => m.email.startsWith('gina')).length, 5);
    assert.equal(userByUsername(mailApp.db, 'gina')!.email, 'gina5@example.org', 'the address did not change');

    // One stranger's address, asked for by four accounts: the fourth is refused.
    for (const name of ['hal', 'ivy', 'jon']) assert.equal((await (await signedIn(name))('victim@example.org')).status, 303, name);
    assert.equal((await (await signedIn('kim'))('VICTIM@example.org')).status, 429);
    assert.equal(verifyMails().filter((m) => m.email.toLowerCase() === 'victim@example.org').length, 3);
  });
});

describe('a game ticket belongs to whoever the game account is linked to now', () => {
  test('moving or removing the link moves the tickets; a later account with the link gets the old tickets', async () => {
    await addUser(app.db, 'root_admin', undefined, 'admin');
    const lena = await createAccount(app.db, { username: 'lena', password: 'correct horse battery', gameAccountId: 2_000_777 });
    const mike = await addUser(app.db, 'mike');
    const { ticketId } = receiveGameMessage(app.db, { accountId: 2_000_777, charId: 150_777, name: 'Lena Char', via: 'pm', message: 'my secret question' }, { templates: DEFAULT_WHISPER_TEMPLATES, guildId: null });
    const adminClient = new Client(app.url);
    await adminClient.login('root_admin');
    const link = async (userId: number, gameAccount: string) => {
      const _csrf = await adminClient.csrf('/index.php?view=users');
      const reply = await adminClient.post('/index.php?view=users&action=game_account', { _csrf, user_id: String(userId), game_account: gameAccount });
      assert.equal(reply.status, 303, reply.text.slice(0, 300));
    };
    const sees = async (name: string) => {
      const client = new Client(app.url);
      await client.login(name);
      return (await client.get(`/index.php?view=ticket&id=${ticketId}`)).status;
    };
    assert.equal(await sees('lena'), 200);
    await link(lena.id, '');
    await link(mike.id, '2000777');
    assert.equal(await sees('lena'), 404, 'the old owner lost it');
    assert.equal(await sees('mike'), 200, 'the new owner has it');
    await link(mike.id, '');
    assert.equal(await sees('mike'), 404);
    // An account created with the link takes the character's tickets.
    await createAccount(app.db, { username: 'nina', password: 'correct horse battery', gameAccountId: 2_000_777 });
    assert.equal(await sees('nina'), 200);
  });
});

describe('posting quotas for players', () => {
  let quotaApp: TestApp;
  before(async () => {
    quotaApp = await startApp({ limits: { ticketsPerMinute: 2, repliesPerMinute: 3, uploadsPerHour: 3, uploadBytesPerDay: 1000 } });
  });
  after(() => quotaApp.close());

  async function player(name: string, role: 'user' | 'staff' | 'admin' = 'user') {
    await addUser(quotaApp.db, name, undefined, role);
    const client = new Client(quotaApp.url);
    await client.login(name);
    return client;
  }
  const count = (sql: string, ...args: unknown[]) => (prepared(quotaApp.db, sql).get(...args) as { n: number }).n;

  test('new tickets a minute: the third is a 429 page that says why, nothing stored', async () => {
    const client = await player('quinn');
    for (let i = 1; i <= 2; i++) {
      const _csrf = await client.csrf('/index.php?view=ticket_create');
      assert.equal((await client.postMultipart('/index.php?view=ticket_create', { _csrf, subject: `Q${i}`, message: 'm' })).status, 303);
    }
    const _csrf = await client.csrf('/index.php?view=ticket_create');
    const third = await client.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 'Q3', message: 'm' }, [{ name: 'a.png', content: PNG_BYTES }]);
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '60');
    assert.match(third.text, /at most 2 tickets a minute/);
    assert.equal(count("SELECT COUNT(*) AS n FROM tickets WHERE subject = 'Q3'"), 0);
    assert.deepEqual(uploadedFiles(quotaApp.config.uploadsDir), []);
  });

  test('replies a minute, files an hour and bytes a day', async () => {
    const client = await player('rosa');
    const _csrf = await client.csrf('/index.php?view=ticket_create');
    const created = await client.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 'Files', message: 'm' }, [{ name: 'a.png', content: PNG_BYTES }, { name: 'b.png', content: PNG_BYTES }]);
    assert.equal(created.status, 303);
    const reply = (files: number, content = PNG_BYTES) =>
      client.postMultipart(`${created.location!}&action=reply`, { _csrf, message: 'more' }, Array.from({ length: files }, (_, i) => ({ name: `f${i}.png`, content })));
    // 2 files used of 3 an hour: two more are refused, and so is the whole reply.
    const tooMany = await reply(2);
    assert.equal(tooMany.status, 429);
    assert.match(tooMany.text, /at most 3 files an hour/);
    // 2 * 80 bytes used of 1000 a day: one file of 900 bytes is too heavy.
    const heavy = await reply(1, Buffer.concat([PNG_BYTES, Buffer.alloc(900 - PNG_BYTES.length)]));
    assert.equal(heavy.status, 429);
    assert.match(heavy.text, /of files a day/);
    assert.equal((await reply(0)).status, 303);
    assert.equal((await reply(0)).status, 303);
    assert.equal((await reply(0)).status, 303);
    const fourth = await reply(0);
    assert.equal(fourth.status, 429);
    assert.match(fourth.text, /at most 3 replies a minute/);
    assert.equal(count("SELECT COUNT(*) AS n FROM messages WHERE body = 'more'"), 3);
    assert.equal(count('SELECT COUNT(*) AS n FROM attachments'), 2);
  });

  test('staff are not limited', async () => {
    const client = await player('sam', 'staff');
    for (let i = 1; i <= 3; i++) {
      const _csrf = await client.csrf('/index.php?view=ticket_create');
      assert.equal((await client.postMultipart('/index.php?view=ticket_create', { _csrf, subject: `S${i}`, message: 'm' })).status, 303);
    }
  });

  test('the admin page shows the limits and saves them', async () => {
    const admin = await player('ursula', 'admin');
    const page = await admin.get('/index.php?view=admin');
    assert.match(page.text, /name="limit_replies_per_minute"[^>]*value="3"/);
    const _csrf = await admin.csrf('/index.php?view=admin');
    const saved = await admin.post('/index.php?view=admin', {
      _csrf,
      ...DEFAULT_WHISPER_TEMPLATES_FORM,
      limit_tickets_per_minute: '5',
      limit_replies_per_minute: '20',
      limit_uploads_per_hour: '0',
      limit_upload_mib_per_day: '50',
    });
    assert.equal(saved.status, 303);
    assert.deepEqual(limits(quotaApp.db), { ticketsPerMinute: 5, repliesPerMinute: 20, uploadsPerHour: 0, uploadBytesPerDay: 50 * 1024 * 1024 });
    const bad = await admin.post('/index.php?view=admin', { _csrf, ...DEFAULT_WHISPER_TEMPLATES_FORM, limit_replies_per_minute: '-1' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="limit_replies_per_minute-error">Enter a whole number \(0 for no limit\)/);
  });
});

const DEFAULT_WHISPER_TEMPLATES_FORM = {
  template_request: DEFAULT_WHISPER_TEMPLATES.request,
  template_pm_created: DEFAULT_WHISPER_TEMPLATES.pmCreated,
  template_offline: DEFAULT_WHISPER_TEMPLATES.offline,
  template_disabled: DEFAULT_WHISPER_TEMPLATES.disabled,
};

describe('the audit log under a flood of refusals', () => {
  test('identical refusals within a minute make two rows: the first, and one that counts the rest', async () => {
    const dir = tempDir();
    const db = openDatabase(path.join(dir, 'app.db')).db;
    const floodApp = await startApp({ dir, db, app: { refusalWindowMs: 60_000 } });
    let closed = false;
    try {
      const owner = await addUser(floodApp.db, 'owner');
      await addUser(floodApp.db, 'prober');
      const ticketId = createWebTicket(floodApp.db, { user: owner, subject: 'Private', body: 'mine', priority: 'normal', uploads: [] }, { ip: null });
      const client = new Client(floodApp.url);
      await client.login('prober');
      const refusals = () => prepared(floodApp.db, "SELECT details FROM audit_log WHERE action = 'ticket.access_refused' ORDER BY id").all() as { details: string }[];
      for (let i = 0; i < 50; i++) assert.equal((await client.get(`/index.php?view=ticket&id=${i % 2 === 0 ? ticketId : 1000 + i}`)).status, 404);
      assert.equal(refusals().length, 1, 'one row while the minute lasts');
      await floodApp.close();
      closed = true;
      const rows = refusals().map((r) => JSON.parse(r.details) as Record<string, unknown>);
      assert.equal(rows.length, 2, 'the count is written when the window closes (here: at the stop)');
      assert.equal(rows[1]!.repeated, 49);
      assert.deepEqual((rows[1]!.requestedIds as number[]).slice(0, 3), [1001, ticketId, 1003]);
    } finally {
      if (!closed) await floodApp.close();
      db.close();
    }
  });

  test('the audit CSV is streamed (chunked, no Content-Length) and complete', async () => {
    const csvApp = await startApp();
    try {
      await addUser(csvApp.db, 'auditor', undefined, 'admin');
      const rowCount = (prepared(csvApp.db, 'SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
      for (let i = 0; i < 1200; i++) recordAudit(csvApp.db, { actor: null, action: 'test.bulk', details: { i } });
      const client = new Client(csvApp.url);
      await client.login('auditor');
      const csv = await client.get('/index.php?view=audit&format=csv');
      assert.equal(csv.status, 200);
      assert.equal(csv.headers.get('content-length'), null);
      assert.equal(csv.headers.get('transfer-encoding'), 'chunked');
      const lines = csv.text.trimEnd().split('\r\n');
      // Header, every row before the sign-in, the 1200, and the sign-in itself.
      assert.equal(lines.length, 1 + rowCount + 1200 + 1);
      assert.match(lines.at(-1)!, /login\.success/);
    } finally {
      await csvApp.close();
    }
  });
});

describe('a damaged session row', () => {
  test('reads as no session (sign in again), never a 500', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    const sid = decodeURIComponent(client.cookies.get('tb_session')!).replace(/^s:/, '').split('.')[0]!;
    for (const data of ['{not json', '{"cookie":{},"userId":"1 OR 1=1"}', '[]']) {
      prepared(app.db, 'UPDATE sessions SET data = ? WHERE sid = ?').run(data, sid);
      const page = await client.get('/index.php?view=tickets');
      assert.equal(page.status, 302, data);
      assert.match(page.location ?? '', /view=login/);
    }
  });
});
