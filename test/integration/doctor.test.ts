// `npm run cli -- doctor` (issue #17) as an admin runs it: one line per check, exit 1 when
// something is wrong, 0 otherwise; integrations that are off are not failures. Against a port
// where nothing listens (SMTP), the fake SMTP server, the fake Telegram Bot API and the fake
// Discord (healthy, and with the Message Content intent off).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { MESSAGE_CONTENT_PROBLEM } from '../../src/discord/setup.js';
import { startFakeDiscord } from '../../support/fakes/discord.js';
import { startFakeSmtp } from '../../support/fakes/smtp.js';
import { startFakeTelegram } from '../../support/fakes/telegram.js';
import { childEnv, tsArgs } from '../../support/server.js';
import { tempDir } from '../helpers/app.js';

const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
});

/** The doctor as a child process, without blocking this one (the fakes answer from here). */
function doctor(env: Record<string, string>, cwd = tempDir()): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, tsArgs('src/cli.ts', 'doctor'), { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, lines: stdout.trimEnd().split('\n'), stderr }));
  });
}

/** A port on 127.0.0.1 where nothing listens any more. */
async function deadPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const line = (lines: string[], what: string) => lines.filter((l) => l.startsWith(`${what}: `));

describe('doctor', () => {
  test('nothing configured: every integration off, exit 0', async () => {
    const result = await doctor({});
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.lines.slice(2), [
      'game API: off (set GAME_API_TOKEN to turn on)',
      'discord: off (set DISCORD_TOKEN and DISCORD_GUILD_ID to turn on)',
      'email: off (set SMTP_URL to turn on)',
      'telegram: off (set TELEGRAM_BOT_TOKEN to turn on)',
      'everything checked is fine',
    ]);
    assert.match(result.lines[0]!, /^database: ok \(.*does not exist yet; the first start creates it\)$/);
    assert.match(result.lines[1]!, /^uploads: ok \(/);
  });

  test('a dead SMTP port and a fake Telegram: the email line names the fix, Telegram is ok, exit 1', async () => {
    const telegram = await startFakeTelegram({ username: 'desk_bot' });
    stops.push(() => telegram.stop());
    const port = await deadPort();
    const result = await doctor({
      GAME_API_TOKEN: 'game-token-0123456789',
      SMTP_URL: `smtp://user:secret-password@127.0.0.1:${port}`,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
    });
    assert.equal(result.code, 1);
    assert.deepEqual(line(result.lines, 'game API'), ['game API: ok (GAME_API_TOKEN is set)']);
    const email = line(result.lines, 'email');
    assert.equal(email.length, 1);
    assert.match(email[0]!, new RegExp(`^email: Cannot reach the SMTP server 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\): check the host and port in SMTP_URL and that the mail server is running\\.$`));
    assert.deepEqual(line(result.lines, 'telegram'), ['telegram: ok (the Bot API knows the bot @desk_bot)']);
    assert.equal(result.lines.at(-1), '1 problem found');
    assert.doesNotMatch(result.lines.join('\n'), /secret-password/);
  });

  test('the SMTP server up and a wrong Telegram token', async () => {
    const smtp = await startFakeSmtp();
    stops.push(() => smtp.stop());
    const telegram = await startFakeTelegram();
    stops.push(() => telegram.stop());
    const wrong = `${telegram.token.split(':')[0]}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
    const result = await doctor({ SMTP_URL: smtp.url, TELEGRAM_BOT_TOKEN: wrong, TELEGRAM_API_ROOT: telegram.apiRoot });
    assert.equal(result.code, 1);
    assert.deepEqual(line(result.lines, 'email'), ['email: ok (the SMTP server 127.0.0.1 answered EHLO)']);
    assert.deepEqual(line(result.lines, 'telegram'), [
      'telegram: Telegram does not know TELEGRAM_BOT_TOKEN: copy the token @BotFather gave your bot (send it /token) into TELEGRAM_BOT_TOKEN and restart.',
    ]);
  });

  test('Discord: a healthy guild is ok (exit 0); the Message Content intent off is its sentence (exit 1)', async () => {
    const good = await startFakeDiscord();
    stops.push(() => good.stop());
    const ok = await doctor({ DISCORD_TOKEN: good.token, DISCORD_GUILD_ID: good.guildId, DISCORD_API_URL: good.apiUrl });
    assert.equal(ok.code, 0, ok.lines.join('\n'));
    assert.match(line(ok.lines, 'discord')[0]!, /^discord: ok \(logged in to "Fake Guild"; room for \d+ more channels\)$/);
    await good.waitFor(() => !good.gatewayConnected, 5000, 'the doctor to log out');

    const refused = await startFakeDiscord({ privilegedIntents: { messageContent: false } });
    stops.push(() => refused.stop());
    const result = await doctor({ DISCORD_TOKEN: refused.token, DISCORD_GUILD_ID: refused.guildId, DISCORD_API_URL: refused.apiUrl });
    assert.equal(result.code, 1);
    assert.deepEqual(line(result.lines, 'discord'), [`discord: ${MESSAGE_CONTENT_PROBLEM}`]);
  });

  test('a database that is not one, a migrated one, and an uploads folder that is a file', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data/app.db'), 'this is not a SQLite file, just text that is long enough to matter'.repeat(100));
    fs.writeFileSync(path.join(dir, 'uploads'), 'a file where the folder should be');
    const result = await doctor({}, dir);
    assert.equal(result.code, 1);
    assert.match(line(result.lines, 'database')[0]!, /^database: (Cannot open|PRAGMA quick_check on) .*: (check DATABASE_PATH|stop ticketbridge and restore)/);
    assert.match(line(result.lines, 'uploads')[0]!, /^uploads: The uploads folder .* is not writable \(ENOTDIR\): /);

    const fresh = tempDir();
    const started = await doctor({}, fresh);
    assert.equal(started.code, 0);
    const { openDatabase } = await import('../../src/db/index.js');
    openDatabase(path.join(fresh, 'data/app.db')).db.close();
    const again = await doctor({}, fresh);
    assert.equal(again.code, 0);
    assert.match(line(again.lines, 'database')[0]!, /^database: ok \(.*app\.db, quick_check ok, migrations current \(\d+\)\)$/);
  });
});

describe("the admin page's test message", () => {
  test('goes through the configured sender and is recorded in the integration state', async () => {
    const { testConfig } = await import('../helpers/app.js');
    const { DeliveryRecord } = await import('../../src/integrations.js');
    const { createEmailSender } = await import('../../src/notify/email.js');
    const { sendTestNotification } = await import('../../src/notify/doctor.js');
    const { trackedSenders } = await import('../../src/notify/worker.js');
    const smtp = await startFakeSmtp();
    stops.push(() => smtp.stop());
    const config = testConfig(tempDir(), { SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@example.org>' });
    const email = createEmailSender(config, 300);
    const record = new DeliveryRecord();
    const senders = trackedSenders({ email: email.send }, { email: record });
    try {
      assert.deepEqual(await sendTestNotification(senders, 'email', 'admin@example.org', config), { ok: true });
      await smtp.waitFor(() => smtp.messages.length === 1, 5000, 'the test mail');
      assert.equal(record.state().state, 'ready');
      assert.ok(record.state().lastSuccessAt);

      await smtp.down();
      const failed = await sendTestNotification(senders, 'email', 'admin@example.org', config);
      assert.equal(failed.ok, false);
      assert.match(failed.ok ? '' : failed.error, /ECONNREFUSED/);
      assert.equal(record.state().state, 'down');
      assert.deepEqual(await sendTestNotification(senders, 'telegram', '42', config), { ok: false, error: 'Telegram is off: set TELEGRAM_BOT_TOKEN and restart' });
    } finally {
      email.close();
    }
  });
});

describe('the running server', () => {
  test('greets the SMTP server at start: a dead port is email "down" on /healthz with the same sentence, without the password', async () => {
    const { launchServer } = await import('../../support/server.js');
    const port = await deadPort();
    const server = launchServer({ cwd: tempDir(), env: { PORT: '0', HOST: '127.0.0.1', SMTP_URL: `smtp://user:secret-password@127.0.0.1:${port}` } });
    stops.push(async () => void (await server.stop()));
    const url = await server.url;
    const { pollUntilAsync } = await import('../../support/fakes/wait.js');
    const email = await pollUntilAsync(
      async () => {
        const body = (await (await fetch(`${url}/healthz`)).json()) as { integrations: { email: { state: string; detail?: string } } };
        return body.integrations.email.state === 'down' && body.integrations.email;
      },
      15_000,
      'email to be down',
    );
    assert.match(email.detail ?? '', new RegExp(`^last attempt failed: Cannot reach the SMTP server 127\\.0\\.0\\.1:${port} .*: check the host and port in SMTP_URL`));
    assert.doesNotMatch(JSON.stringify(email) + server.stdout(), /secret-password/);
  });
});
