// Admin pages: users, settings, audit log. Only admins reach them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authenticate } from '../../src/accounts.js';
import { recentAuditRows } from '../../src/db/audit.js';
import { guildSettings } from '../../src/db/guilds.js';
import { prepared } from '../../src/db/index.js';
import { userByUsername } from '../../src/db/users.js';
import { notificationSwitches, whisperTemplates } from '../../src/settings.js';
import { addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';

const GUILD = '123456789012345678';
let app: TestApp;
let admin: Client;

before(async () => {
  app = await startApp({ env: { DISCORD_TOKEN: 'x'.repeat(50), DISCORD_GUILD_ID: GUILD } });
  await addUser(app.db, 'root', 'correct horse battery', 'admin');
  await addUser(app.db, 'staffer', 'correct horse battery', 'staff');
  await addUser(app.db, 'gamer');
  admin = new Client(app.url);
  await admin.login('root');
});
after(() => app.close());

async function post(view: string, action: string | undefined, fields: Record<string, string>, client = admin) {
  const _csrf = csrfFrom((await client.get(`/index.php?view=tickets`)).text)!;
  return client.post(`/index.php?view=${view}${action ? `&action=${action}` : ''}`, { _csrf, ...fields });
}

function idOf(username: string): string {
  return String(userByUsername(app.db, username)!.id);
}

describe('who may use the admin pages', () => {
  for (const view of ['users', 'admin', 'audit']) {
    test(`${view}: admin 200, staff and players 403, signed out sent to sign in`, async () => {
      assert.equal((await admin.get(`/index.php?view=${view}`)).status, 200);
      for (const name of ['staffer', 'gamer']) {
        const c = new Client(app.url);
        await c.login(name);
        assert.equal((await c.get(`/index.php?view=${view}`)).status, 403, `${name} GET`);
      }
      assert.equal((await new Client(app.url).get(`/index.php?view=${view}`)).status, 302);
    });
  }

  test('a staff member posting admin actions gets 403 and nothing changes', async () => {
    const staff = new Client(app.url);
    await staff.login('staffer');
    const gamerId = idOf('gamer');
    assert.equal((await post('users', 'role', { user_id: gamerId, role: 'admin' }, staff)).status, 403);
    assert.equal((await post('users', 'disable', { user_id: gamerId }, staff)).status, 403);
    assert.equal((await post('users', 'create', { username: 'intruder', password: 'long enough pw', role: 'admin' }, staff)).status, 403);
    assert.equal((await post('admin', undefined, { notify_email: 'on', template_request: '{message}', template_pm_created: 'a', template_offline: 'b', template_disabled: 'c' }, staff)).status, 403);
    assert.equal(userByUsername(app.db, 'gamer')!.role, 'user');
    assert.equal(userByUsername(app.db, 'intruder'), undefined);
    assert.equal(notificationSwitches(app.db).email, false);
  });

  test('the admin sees Users, Audit log and Administration in the sidebar; staff do not', async () => {
    assert.match((await admin.get('/index.php?view=tickets')).text, /view=users[\s\S]*view=audit[\s\S]*view=admin/);
    const staff = new Client(app.url);
    await staff.login('staffer');
    assert.doesNotMatch((await staff.get('/index.php?view=tickets')).text, /view=users|view=audit|view=admin"/);
  });
});

describe('view=users', () => {
  test('create a user: they can sign in; bad input re-renders with messages (422) and stores nothing', async () => {
    const created = await post('users', 'create', { username: 'newbie', password: 'newbie-password', role: 'staff', email: 'newbie@example.org', game_account: '2000042' });
    assert.equal(created.status, 303);
    const user = userByUsername(app.db, 'newbie')!;
    assert.equal(user.role, 'staff');
    assert.equal(user.gameAccountId, 2000042);
    assert.equal((await new Client(app.url).login('newbie', 'newbie-password')).status, 303);
    assert.match((await admin.get('/index.php?view=users')).text, /Created newbie \(staff\)\./);

    const count = (prepared(app.db, 'SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
    const bad = await post('users', 'create', { username: 'bad name!', password: 'short', role: 'king', email: 'nope', game_account: 'abc' });
    assert.equal(bad.status, 422);
    for (const message of [/must be 1 to 64 letters/, /at least 8 characters/, /Role must be one of/, /Email must be an email address/, /Game account must be a whole number/]) assert.match(bad.text, message);
    const taken = await post('users', 'create', { username: 'NEWBIE', password: 'another-password', role: 'user' });
    assert.equal(taken.status, 422);
    assert.match(taken.text, /Username is already taken/);
    const sameGame = await post('users', 'create', { username: 'twin', password: 'another-password', role: 'user', game_account: '2000042' });
    assert.equal(sameGame.status, 422);
    assert.match(sameGame.text, /Game account is already linked to another user/);
    assert.equal((prepared(app.db, 'SELECT COUNT(*) AS n FROM users').get() as { n: number }).n, count);
  });

  test('disable ends the user’s sessions and sign-in; enable lets them back', async () => {
    await addUser(app.db, 'leaver');
    const leaver = new Client(app.url);
    await leaver.login('leaver');
    assert.equal((await leaver.get('/index.php?view=tickets')).status, 200);
    assert.equal((await post('users', 'disable', { user_id: idOf('leaver') })).status, 303);
    assert.equal((await leaver.get('/index.php?view=tickets')).status, 302, 'signed out at once');
    const again = await new Client(app.url).login('leaver');
    assert.equal(again.status, 401);
    assert.match(again.text, /This account is disabled/);
    assert.equal((await post('users', 'enable', { user_id: idOf('leaver') })).status, 303);
    assert.equal((await new Client(app.url).login('leaver')).status, 303);
    const actions = recentAuditRows(app.db, 30).map((r) => r.action);
    assert.ok(actions.includes('user.disable') && actions.includes('user.enable'));
  });

  test('reset password shows a new one once (not stored in clear), ends sessions', async () => {
    await addUser(app.db, 'forgetful');
    const reply = await post('users', 'reset_password', { user_id: idOf('forgetful') });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    const password = /New password for forgetful: (\S+) /.exec(reply.text)?.[1];
    assert.ok(password);
    assert.equal((await authenticate(app.db, 'forgetful', password)).ok, true);
    assert.equal((await authenticate(app.db, 'forgetful', 'correct horse battery')).ok, false);
    const stored = prepared(app.db, 'SELECT COUNT(*) AS n FROM sessions WHERE data LIKE ?').get(`%${password}%`) as { n: number };
    assert.equal(stored.n, 0);
    assert.doesNotMatch((await admin.get('/index.php?view=users')).text, new RegExp(password), 'shown once');
  });

  test('set role and link a game account', async () => {
    await addUser(app.db, 'promoted');
    assert.equal((await post('users', 'role', { user_id: idOf('promoted'), role: 'staff' })).status, 303);
    assert.equal(userByUsername(app.db, 'promoted')!.role, 'staff');
    assert.equal((await post('users', 'game_account', { user_id: idOf('promoted'), game_account: '2000099' })).status, 303);
    assert.equal(userByUsername(app.db, 'promoted')!.gameAccountId, 2000099);
    assert.equal((await post('users', 'game_account', { user_id: idOf('gamer'), game_account: '2000099' })).status, 422, 'one user per game account');
    assert.equal((await post('users', 'game_account', { user_id: idOf('promoted'), game_account: '' })).status, 303);
    assert.equal(userByUsername(app.db, 'promoted')!.gameAccountId, null);
    assert.equal((await post('users', 'role', { user_id: idOf('promoted'), role: 'emperor' })).status, 422);
    assert.equal((await post('users', 'role', { user_id: '987654', role: 'user' })).status, 404);
    assert.equal((await post('users', 'role', { user_id: 'abc', role: 'user' })).status, 404);
  });

  test('the last admin cannot be disabled or demoted, and an admin cannot lock themselves out', async () => {
    const rootId = idOf('root');
    assert.equal((await post('users', 'disable', { user_id: rootId })).status, 422);
    assert.equal((await post('users', 'role', { user_id: rootId, role: 'user' })).status, 422);
    assert.equal(userByUsername(app.db, 'root')!.role, 'admin');
    assert.equal(userByUsername(app.db, 'root')!.disabledAt, null);
  });
});

describe('view=admin', () => {
  const templates = {
    template_request: '[Support]: {message}',
    template_pm_created: 'Ticket opened. PM @Support to continue',
    template_offline: 'Support is offline, try later',
    template_disabled: 'Tickets are disabled',
  };

  test('shows the switches, the guild setting from channels.conf default, templates and limits', async () => {
    const page = await admin.get('/index.php?view=admin');
    assert.match(page.text, /name="notify_email" id="notify_email">/, 'email off until an admin enables it');
    assert.match(page.text, /name="close_on_logout" id="close_on_logout" checked>/, 'row created with the conf default (true)');
    assert.match(page.text, /value="\[RagnaSync Ticket\]: \{message\}"/);
    assert.match(page.text, /value="Ticket Created on Discord. PM @Support to use"/);
    assert.match(page.text, /value="RagnaSync: Ticket Offline, Try again"/);
    assert.match(page.text, /value="RagnaSync Ticket Support Disabled"/);
    assert.match(page.text, /at most 5 files of 10 MiB each/);
  });

  test('saving changes switches, the guild row and templates, with an audit row', async () => {
    const reply = await post('admin', undefined, { notify_email: 'on', notify_telegram: 'on', ...templates });
    assert.equal(reply.status, 303);
    assert.deepEqual(notificationSwitches(app.db), { email: true, telegram: true });
    assert.equal(guildSettings(app.db, GUILD, true).ticketCloseOnLogout, false, 'unchecked box = false, and the row wins over the conf default');
    assert.deepEqual(whisperTemplates(app.db), { request: '[Support]: {message}', pmCreated: 'Ticket opened. PM @Support to continue', offline: 'Support is offline, try later', disabled: 'Tickets are disabled' });
    assert.ok(recentAuditRows(app.db, 5).some((r) => r.action === 'admin.settings'));
    assert.match((await admin.get('/index.php?view=admin&saved=1')).text, /Settings saved/);
  });

  test('bad templates are refused with messages; nothing changes', async () => {
    const before = whisperTemplates(app.db);
    const reply = await post('admin', undefined, { ...templates, template_request: 'no placeholder', template_offline: '  ' });
    assert.equal(reply.status, 422);
    assert.match(reply.text, /must contain \{message\}/);
    assert.match(reply.text, /id="template_offline-error">Fill this in\.</);
    assert.deepEqual(whisperTemplates(app.db), before);
    assert.equal((await post('admin', undefined, { ...templates, surprise: 'x' })).status, 400);
  });
});

describe('view=audit', () => {
  test('lists entries newest first with filters by actor, action, ticket and date', async () => {
    const page = await admin.get('/index.php?view=audit&actor=root&action=user.create');
    assert.equal(page.status, 200);
    const actions = [...page.text.matchAll(/data-action="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(actions.length >= 1);
    assert.ok(actions.every((a) => a === 'user.create'));
    const ids = [...page.text.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    const future = await admin.get('/index.php?view=audit&date_from=2099-01-01');
    assert.match(future.text, /No audit entries match these filters/);
    assert.equal((await admin.get('/index.php?view=audit&ticket=abc')).status, 400);
    assert.equal((await admin.get('/index.php?view=audit&date_to=31.12.2025')).status, 400);
  });

  test('pages through many entries', async () => {
    const { recordAudit } = await import('../../src/audit.js');
    for (let i = 0; i < 120; i += 1) recordAudit(app.db, { actor: { id: null, name: 'bulk' }, action: 'test.bulk', details: { i } });
    const first = await admin.get('/index.php?view=audit&actor=bulk');
    assert.equal([...first.text.matchAll(/data-audit-id=/g)].length, 100);
    assert.match(first.text, /120 entries/);
    assert.match(first.text, /href="\/index.php\?view=audit&amp;actor=bulk&amp;page=2" rel="next"/);
    const second = await admin.get('/index.php?view=audit&actor=bulk&page=2');
    assert.equal([...second.text.matchAll(/data-audit-id=/g)].length, 20);
  });

  test('CSV export: every matching row, quoted, formulas defused', async () => {
    const { recordAudit } = await import('../../src/audit.js');
    recordAudit(app.db, { actor: { id: null, name: '=HYPERLINK("http://evil")' }, action: 'test.csv', details: { note: 'a "quoted", value' } });
    const reply = await admin.get('/index.php?view=audit&action=test.csv&format=csv');
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(reply.headers.get('content-disposition') ?? '', /^attachment; filename="audit-\d{4}-\d\d-\d\d\.csv"$/);
    const lines = reply.text.replace(/^\ufeff/, '').trim().split('\r\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^"id","time_utc","time_UTC","actor_id","actor","action","ticket","ip","details"$/);
    assert.match(lines[1]!, /,"'=HYPERLINK\(""http:\/\/evil""\)","test\.csv",/);
    assert.match(lines[1]!, /"\{""note"":""a \\""quoted\\"", value""\}"$/);
    const staff = new Client(app.url);
    await staff.login('staffer');
    assert.equal((await staff.get('/index.php?view=audit&format=csv')).status, 403);
  });
});
