// The top of view=admin (issue #17 points 1 and 3): the integration panel with each state and last
// error, "Check again", test messages through the real sender to the fake SMTP server, the backups
// card with "Back up now", and the first-start checklist. Real HTTP through the app.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureFirstAdmin } from '../../src/accounts.js';
import { createBackupSchedule, listArchives, recordBackupResult, type BackupSchedule } from '../../src/backup.js';
import { recentAuditRows } from '../../src/db/audit.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { setUserEmail } from '../../src/db/users.js';
import type { IntegrationState } from '../../src/integrations.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import { sendTestNotification } from '../../src/notify/doctor.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { addUser, Client, startApp, tempDir, testConfig, type TestApp } from '../helpers/app.js';

const NEW_ACTIONS = ['recheck', 'test_email', 'test_telegram', 'backup'];

let smtp: FakeSmtp;
let app: TestApp;
let db: Db;
let schedule: BackupSchedule;
let admin: Client;
let email: ReturnType<typeof createEmailSender> | undefined;
let rechecks = 0;
const states: Record<string, IntegrationState> = {
  gameApi: { state: 'ready' },
  discord: { state: 'ready', room: { guild: 480, category: { name: 'Tickets', left: 12 } } },
  email: { state: 'ready' },
  telegram: { state: 'off' },
};

async function post(client: Client, action: string, fields: Record<string, string> = {}) {
  const _csrf = await client.csrf('/index.php?view=admin');
  return client.post(`/index.php?view=admin&action=${action}`, { _csrf, ...fields });
}

/** The card of one integration on the admin page. */
function card(html: string, name: string): string {
  const start = html.indexOf(`data-integration="${name}"`);
  assert.ok(start >= 0, `the ${name} card`);
  return html.slice(start, html.indexOf('</section>', start));
}

before(async () => {
  smtp = await startFakeSmtp({ user: 'mailer', pass: 'secret' });
  const dir = tempDir('tb-panel-');
  const env = { SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@example.org>', BACKUP_DIR: path.join(dir, 'backups') };
  const config = testConfig(dir, env);
  db = openDatabase(config.databasePath).db;
  schedule = createBackupSchedule({ db, uploadsDir: config.uploadsDir, dir: config.backup.dir!, intervalHours: 24, keep: 7, logger: createLogger('error') });
  email = createEmailSender(config);
  app = await startApp({
    dir,
    db,
    env,
    app: {
      integrations: () => states,
      recheckIntegrations: async () => {
        rechecks += 1;
        states.discord = { ...states.discord!, problems: ['The bot cannot send messages in the log channel #logs: give its role Send Messages there.'] };
      },
      sendTestNotification: (channel, to) => sendTestNotification(email ? { email: email.send } : {}, channel, to, config),
      backups: schedule,
    },
  });
  const boss = await addUser(db, 'boss', 'correct horse battery', 'admin');
  setUserEmail(db, boss.id, 'boss@example.org');
  await addUser(db, 'helper', 'correct horse battery', 'staff');
  await addUser(db, 'gamer');
  admin = new Client(app.url);
  await admin.login('boss');
});

after(async () => {
  await schedule?.stop();
  email?.close();
  await app?.close();
  db?.close();
  await smtp?.stop();
});

describe('the integration panel', () => {
  test('a down SMTP server shows as down with its last error and when; Discord its problems and room', async () => {
    const at = Date.UTC(2026, 10, 30, 22, 15);
    states.email = { state: 'down', lastError: 'connect ECONNREFUSED 127.0.0.1:2525', lastErrorAt: new Date(at).toISOString() };
    states.discord = { state: 'ready', problems: ['Turn on Message Content in the developer portal.'], room: { guild: 480, category: { name: 'Tickets', left: 12 } } };
    const page = await admin.get('/index.php?view=admin');
    assert.equal(page.status, 200);
    const mail = card(page.text, 'email');
    assert.match(mail, /data-state="down"/);
    assert.match(mail, /<span class="state-icon" aria-hidden="true">✕<\/span> down<\/span>/, 'an icon and the word, not colour alone');
    assert.match(mail, /Last error:<\/strong> <time datetime="2026-11-30T22:15:00.000Z">Nov 30, 2026, 10:15\s?PM UTC<\/time>/);
    assert.match(mail, /connect ECONNREFUSED 127\.0\.0\.1:2525/);
    assert.match(mail, /SMTP_URL, MAIL_FROM/);
    assert.match(mail, /A change takes effect after a restart\./);
    const discord = card(page.text, 'discord');
    assert.match(discord, /<li>Turn on Message Content in the developer portal\.<\/li>/);
    assert.match(discord, /Room for 480 more channels on the Discord server · 12 more in the category Tickets/);
    const telegram = card(page.text, 'telegram');
    assert.match(telegram, /data-state="off"/);
    assert.match(telegram, /set TELEGRAM_BOT_TOKEN in the environment and restart/);
    assert.doesNotMatch(telegram, /data-test-form/, 'no test form while Telegram is off');
    assert.match(card(page.text, 'gameApi'), /data-state="ready"/);
    states.email = { state: 'ready' };
  });

  test('"Check again" runs the setup check, audits it and says what it found', async () => {
    const before = rechecks;
    const reply = await post(admin, 'recheck');
    assert.equal(reply.status, 303);
    assert.match(reply.location ?? '', /view=admin#integration-discord$/);
    assert.equal(rechecks, before + 1);
    const page = await admin.get(reply.location!);
    assert.match(page.text, /data-flash>Discord was checked again: one setup problem is left, shown below\./);
    assert.match(card(page.text, 'discord'), /give its role Send Messages there/);
    assert.ok(recentAuditRows(db, 5).some((r) => r.action === 'admin.integrations_check'));
    states.discord = { state: 'ready' };
  });

  test('"Send a test" delivers a real email to the fake SMTP server, flashes and audits', async () => {
    const page = await admin.get('/index.php?view=admin');
    assert.match(card(page.text, 'email'), /name="to" type="email" dir="ltr" maxlength="254" value="boss@example.org"/, "the admin's own address by default");
    const reply = await post(admin, 'test_email', { to: 'checker@example.org' });
    assert.equal(reply.status, 303);
    const mail = await smtp.waitFor(() => smtp.messagesTo('checker@example.org')[0], 5000, 'the test email');
    assert.match(mail.subject, /test message/);
    assert.match((await admin.get(reply.location!)).text, /data-flash>A test email was sent to checker@example\.org\./);
    const row = recentAuditRows(db, 5).find((r) => r.action === 'admin.test_notification');
    assert.ok(row);
    assert.match(JSON.stringify(row), /checker@example\.org/);
  });

  test('a failed test says why in one sentence', async () => {
    smtp.failNext(1, 550, 'mailbox unavailable');
    const reply = await post(admin, 'test_email', { to: 'nobody@example.org' });
    assert.equal(reply.status, 303);
    const page = await admin.get(reply.location!);
    assert.match(page.text, /data-flash>The test to nobody@example\.org failed: [^<]*550/);
  });

  test('refused without a 500: Telegram off, email off, a bad address (422 next to the form); nothing audited', async () => {
    const audited = recentAuditRows(db, 1)[0]!.id;
    const telegram = await post(admin, 'test_telegram', { to: '12345' });
    assert.equal(telegram.status, 422);
    assert.match(telegram.text, /id="test_telegram-error" role="alert" data-test-error>Telegram is off, so no test can be sent/);
    const bad = await post(admin, 'test_email', { to: 'not an address' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="test_email-error" role="alert" data-test-error>Enter an email address/);
    assert.match(bad.text, /value="not an address"/, 'what was typed is kept');
    states.email = { state: 'off' };
    try {
      const off = await post(admin, 'test_email', { to: 'boss@example.org' });
      assert.equal(off.status, 422);
      assert.match(off.text, /data-test-error>Email is off, so no test can be sent: set SMTP_URL and MAIL_FROM/);
      assert.match(off.text, /<h1>Administration<\/h1>/, 'the admin page, not an error page');
    } finally {
      states.email = { state: 'ready' };
    }
    assert.equal(recentAuditRows(db, 1)[0]!.id, audited);
  });

  test('at most 5 tests a minute per admin', async () => {
    await addUser(db, 'tester', 'correct horse battery', 'admin');
    const tester = new Client(app.url);
    await tester.login('tester');
    for (let i = 0; i < 5; i++) assert.equal((await post(tester, 'test_email', { to: `flood${i}@example.org` })).status, 303);
    const sixth = await post(tester, 'test_email', { to: 'flood6@example.org' });
    assert.equal(sixth.status, 429);
    assert.match(sixth.text, /data-test-error>At most 5 tests a minute/);
    assert.equal(smtp.messagesTo('flood6@example.org').length, 0);
  });
});

describe('the backups card', () => {
  test('"Back up now" makes an archive; a later failure is shown prominently with the last success', async () => {
    const empty = await admin.get('/index.php?view=admin');
    assert.match(empty.text, /data-backup-last="none">No backup has been made yet\./);
    const reply = await post(admin, 'backup');
    assert.equal(reply.status, 303);
    const archives = listArchives(app.config.backup.dir!);
    assert.equal(archives.length, 1);
    const flashed = await admin.get(reply.location!);
    assert.match(flashed.text, new RegExp(`data-flash>Backup written: ${archives[0]!.name.replace(/\./g, '\\.')} \\(`));
    assert.match(flashed.text, new RegExp(`data-backup-last="ok">[\\s\\S]*${archives[0]!.name.replace(/\./g, '\\.')}[\\s\\S]*KiB · took`));
    assert.match(flashed.text, new RegExp(`data-archive="${archives[0]!.name.replace(/\./g, '\\.')}"`));
    assert.ok(recentAuditRows(db, 5).some((r) => r.action === 'admin.backup'));

    const now = Date.now();
    recordBackupResult(db, { ok: false, at: now, finishedAt: now + 5, durationMs: 5, error: 'the file abc of an attachment is missing from UPLOADS_DIR /srv/uploads', trigger: 'schedule' });
    const failed = await admin.get('/index.php?view=admin');
    assert.match(failed.text, /<div class="alert alert-error" data-backup-last="failed">[\s\S]*The last backup failed:[\s\S]*the file abc of an attachment is missing/);
    assert.match(failed.text, new RegExp(`data-backup-last-ok><strong>Last backup that worked:</strong>[\\s\\S]*${archives[0]!.name.replace(/\./g, '\\.')}`));
    assert.ok(fs.existsSync(archives[0]!.file));
  });
});

describe('who may use the panel', () => {
  test('staff and players get 403 on every new action; nothing is sent or made', async () => {
    const archives = listArchives(app.config.backup.dir!).length;
    const calls = rechecks;
    for (const name of ['helper', 'gamer']) {
      const c = new Client(app.url);
      await c.login(name);
      const _csrf = await c.csrf('/index.php?view=settings');
      for (const action of NEW_ACTIONS) {
        const reply = await c.post(`/index.php?view=admin&action=${action}`, { _csrf, to: 'intruder@example.org' });
        assert.equal(reply.status, 403, `${name} ${action}`);
      }
    }
    assert.equal(rechecks, calls);
    assert.equal(listArchives(app.config.backup.dir!).length, archives);
    assert.equal(smtp.messagesTo('intruder@example.org').length, 0);
  });
});

describe('the first-start checklist', () => {
  let fresh: TestApp;
  let first: Client;
  let password = '';
  const freshStates: Record<string, IntegrationState> = { gameApi: { state: 'off' }, discord: { state: 'off' }, email: { state: 'off' }, telegram: { state: 'off' } };

  before(async () => {
    fresh = await startApp({ app: { integrations: () => freshStates } });
    password = (await ensureFirstAdmin(fresh.db))!.password;
    first = new Client(fresh.url);
    assert.equal((await first.login('admin', password)).status, 303);
  });
  after(() => fresh?.close());

  const marks = async () => {
    const page = await first.get('/index.php?view=admin');
    if (!/data-checklist/.test(page.text)) return undefined;
    return Object.fromEntries([...page.text.matchAll(/data-check="(\w+)" data-done="(yes|no)"/g)].map((m) => [m[1], m[2]]));
  };

  test('marks change as the admin does the steps; gone when all are done', async () => {
    assert.deepEqual(await marks(), { password: 'no', staff: 'no', discord: 'no', gameToken: 'no' });
    const page = await first.get('/index.php?view=admin');
    assert.match(page.text, /href="\/index.php\?view=settings#password">Change the administrator password/);
    assert.match(page.text, /<span class="visually-hidden">Not done yet:<\/span>/);

    const _csrf = await first.csrf('/index.php?view=settings');
    const changed = await first.post('/index.php?view=settings&action=password', { _csrf, current_password: password, new_password: 'a brand new password', confirm_password: 'a brand new password' });
    assert.equal(changed.status, 303);
    assert.deepEqual(await marks(), { password: 'yes', staff: 'no', discord: 'no', gameToken: 'no' });

    const token = await first.csrf('/index.php?view=users');
    const created = await first.post('/index.php?view=users&action=create', { _csrf: token, username: 'support1', password: 'support password', role: 'staff', email: '', game_account: '' });
    assert.equal(created.status, 303);
    assert.deepEqual(await marks(), { password: 'yes', staff: 'yes', discord: 'no', gameToken: 'no' });

    freshStates.gameApi = { state: 'ready' };
    freshStates.discord = { state: 'starting' };
    assert.deepEqual(await marks(), { password: 'yes', staff: 'yes', discord: 'no', gameToken: 'yes' });
    freshStates.discord = { state: 'ready' };
    assert.equal(await marks(), undefined, 'every step done: no checklist');
  });

  test('a desk with tickets shows no checklist; "Back up now" with backups off is a 422 on the page', async () => {
    freshStates.discord = { state: 'off' };
    assert.ok(await marks());
    const player = await addUser(fresh.db, 'firstplayer');
    createWebTicket(fresh.db, { user: player, subject: 'Hello', body: 'First ticket', priority: 'normal', uploads: [] }, { ip: null });
    assert.equal(await marks(), undefined);
    const page = await first.get('/index.php?view=admin');
    assert.match(page.text, /data-backups="off"/);
    assert.match(page.text, /set BACKUP_DIR in the environment/);
    const _csrf = await first.csrf('/index.php?view=admin');
    const refused = await first.post('/index.php?view=admin&action=backup', { _csrf });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /id="backup-error" role="alert">Backups are off, so no backup can be made from here/);
  });
});
