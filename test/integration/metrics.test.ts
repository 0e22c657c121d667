// GET /metrics (issue #17): off without METRICS_TOKEN (404, as if there were no such route), a
// bearer token compared in constant time (401 otherwise), and numbers that move with the desk:
// requests by view, tickets by status and source, the notification outbox filling while SMTP is
// down and draining once it is back, delivery failures, long polls waiting. Real app over HTTP, a
// real SMTP server (smtp-server) taken down and brought back on the same port.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { markEmailVerified, setUserEmail, type User } from '../../src/db/users.js';
import { DeliveryRecord } from '../../src/integrations.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/notify/worker.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { Signal } from '../../src/signal.js';
import { createWebTicket, replyAsStaff } from '../../src/tickets/service.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { pollUntilAsync } from '../../support/fakes/wait.js';
import { addUser, Client, startApp, type TestApp } from '../helpers/app.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const GAME_TOKEN = 'game-token-0123456789';
let smtp: FakeSmtp;
let app: TestApp;
let worker: NotificationWorker;
let email: ReturnType<typeof createEmailSender>;
const record = new DeliveryRecord();
const signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
let player: User;
let staff: User;

before(async () => {
  smtp = await startFakeSmtp({ user: 'mailer', pass: 'secret' });
  await smtp.down();
  app = await startApp({
    env: { METRICS_TOKEN: TOKEN, GAME_API_TOKEN: GAME_TOKEN, SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@example.org>' },
    app: { signals, deliveries: () => ({ email: record }), integrations: () => ({ email: record.state() }) },
  });
  email = createEmailSender(app.config, 300);
  worker = createNotificationWorker({ db: app.db, config: app.config, logger: createLogger('silent'), signal: signals.notifications, senders: { email: email.send }, retryBaseMs: 100, deliveries: { email: record } });
  worker.start();
  player = await addUser(app.db, 'player');
  setUserEmail(app.db, player.id, 'player@example.org');
  markEmailVerified(app.db, player.id, 'player@example.org');
  saveNotificationSwitches(app.db, { email: true, telegram: false });
  staff = await addUser(app.db, 'gm', 'correct horse battery', 'staff');
});
after(async () => {
  await worker.stop();
  email.close();
  await app.close();
  await smtp.stop();
});

/** The scrape as name{labels} -> value. */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

const value = (values: Map<string, number>, key: string) => values.get(key) ?? 0;

describe('GET /metrics', () => {
  test('is not there without METRICS_TOKEN', async () => {
    const plain = await startApp();
    try {
      const response = await fetch(`${plain.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(response.status, 404);
    } finally {
      await plain.close();
    }
  });

  test('answers 401 without the token or with a wrong one', async () => {
    assert.equal((await fetch(`${app.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
    assert.equal((await fetch(`${app.url}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } })).status, 401);
    assert.equal((await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer short' } })).status, 401);
  });

  test('process metrics come from our own registry, event-loop lag included', async () => {
    const values = await scrape();
    assert.ok(value(values, 'ticketbridge_process_resident_memory_bytes') > 0);
    assert.ok(values.has('ticketbridge_nodejs_eventloop_lag_p99_seconds'));
    assert.equal(value(values, 'ticketbridge_discord_connected'), 0, 'no bridge: 0');
  });

  test('requests are counted by view and status class; an unknown view is "other", never its raw value', async () => {
    const client = new Client(app.url);
    await client.login('player');
    const before = await scrape();
    const key = 'ticketbridge_http_request_duration_seconds_count{view="tickets",status="2xx"}';
    assert.equal((await client.get('/index.php?view=tickets')).status, 200);
    assert.equal((await client.get('/index.php?view=%3Cscript%3Ebogus')).status, 404);
    const values = await scrape();
    assert.equal(value(values, key) - value(before, key), 1);
    assert.equal(value(values, 'ticketbridge_http_request_duration_seconds_count{view="other",status="4xx"}') - value(before, 'ticketbridge_http_request_duration_seconds_count{view="other",status="4xx"}'), 1);
    assert.ok(![...values.keys()].some((k) => k.includes('bogus') || k.includes('script')));
  });

  test('a new ticket moves tickets{status="open",source="web"} by one', async () => {
    const key = 'ticketbridge_tickets{status="open",source="web"}';
    const before = value(await scrape(), key);
    createWebTicket(app.db, { user: player, subject: 'Counted', body: 'help', priority: 'normal', uploads: [] }, { ip: null });
    assert.equal(value(await scrape(), key), before + 1);
  });

  test('a notification waits while SMTP is down (depth 1, failures count, email down), and drains once it is up', async () => {
    const depth = 'ticketbridge_outbox_depth{outbox="notifications_email"}';
    const failures = 'ticketbridge_delivery_failures_total{integration="email"}';
    assert.equal(value(await scrape(), depth), 0);
    const ticketId = createWebTicket(app.db, { user: player, subject: 'Mail me', body: 'help', priority: 'normal', uploads: [] }, { ip: null });
    replyAsStaff(app.db, { ticketId, user: staff, body: 'Answered', status: 'waiting_user', uploads: [] }, { ip: null }, { whisperMax: 200, discord: false, notify: { email: true, telegram: false } });
    const waiting = await pollUntilAsync(async () => {
      const values = await scrape();
      return value(values, failures) >= 1 && values;
    }, 10_000, 'a failed delivery');
    assert.equal(value(waiting, depth), 1);
    assert.ok(value(waiting, 'ticketbridge_outbox_oldest_age_seconds{outbox="notifications_email"}') > 0);
    const health = (await (await fetch(`${app.url}/healthz`)).json()) as { integrations: { email: { state: string; detail?: string; lastError?: string } } };
    assert.equal(health.integrations.email.state, 'down');
    assert.match(health.integrations.email.detail ?? '', /^last attempt failed: .*ECONNREFUSED/);
    assert.equal(health.integrations.email.lastError, undefined, '/healthz is public: the error text is for the admin page');
    assert.match(record.state().lastError ?? '', /ECONNREFUSED/);

    await smtp.up();
    const drained = await pollUntilAsync(async () => {
      const values = await scrape();
      return value(values, depth) === 0 && values;
    }, 15_000, 'the outbox to drain');
    assert.equal(value(drained, 'ticketbridge_outbox_oldest_age_seconds{outbox="notifications_email"}'), 0);
    await smtp.waitFor(() => smtp.messages.length === 1, 5000, 'the mail');
    const healed = (await (await fetch(`${app.url}/healthz`)).json()) as { integrations: { email: { state: string } } };
    assert.equal(healed.integrations.email.state, 'ready');
    assert.ok(record.state().lastSuccessAt);
  });

  test('a long poll of the game server is counted while it waits', async () => {
    const key = 'ticketbridge_game_long_polls_waiting';
    assert.equal(value(await scrape(), key), 0);
    const poll = fetch(`${app.url}/api/game/whispers?wait=5`, { headers: { authorization: `Bearer ${GAME_TOKEN}` } });
    await pollUntilAsync(async () => value(await scrape(), key) === 1, 5000, 'the poll to wait');
    signals.whispers.notify();
    await (await poll).arrayBuffer();
    await pollUntilAsync(async () => value(await scrape(), key) === 0, 10_000, 'the poll to end');
  });
});
