// The server process as a user starts it: bad settings, first start, secrets in logs, graceful stop.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import http from 'node:http';
import { describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { openDatabase, prepared } from '../../src/db/index.js';
import { Client, csrfFrom, tempDir } from '../helpers/app.js';
import { withoutEncoded } from '../helpers/bridge.js';
import { launchServer } from '../../support/server.js';
import { runSync } from '../helpers/process.js';
import { pollUntil, pollUntilAsync } from '../../support/fakes/wait.js';

/**
 * A GET with `Expect: 100-continue`: node's HTTP server answers "100 Continue" as it hands the
 * request to the app, so `continued` resolves once the server is handling it.
 */
function getExpectingContinue(url: string, headers: Record<string, string>) {
  const request = http.get(url, { headers: { ...headers, expect: '100-continue' } });
  const continued = new Promise<void>((resolve) => request.once('continue', () => resolve()));
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
  });
  return { continued, answer };
}

const BASE_ENV = { PORT: '0', HOST: '127.0.0.1' };

function firstAdminPassword(stdout: string): string | undefined {
  return /password: (\S+)/.exec(stdout)?.[1];
}

describe('start-up refusals: one line naming the problem, exit code 1', () => {
  test('PORT=abc', () => {
    const result = runSync('src/server.ts', [], { cwd: tempDir(), env: { PORT: 'abc' } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'ticketbridge: PORT must be a whole number from 0 to 65535 (got "abc")\n');
  });

  test('a malformed channels.conf', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(path.join(dir, 'conf/channels.conf'), 'ragnasync_ticket_support_system_enabled: true\n{ oops\n');
    const result = runSync('src/server.ts', [], { cwd: dir, env: BASE_ENV });
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^ticketbridge: CHANNELS_CONF .*conf\/channels\.conf:2: expected "key: value"/);
  });

  test('a database written by a newer version', () => {
    const dir = tempDir();
    const { db } = openDatabase(path.join(dir, 'data/app.db'));
    prepared(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
    db.close();
    const result = runSync('src/server.ts', [], { cwd: dir, env: BASE_ENV });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /^ticketbridge: DATABASE_PATH .*schema version 99, newer than this ticketbridge knows/);
  });

  test('a port already in use', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const server = launchServer({ cwd: tempDir(), env: { ...BASE_ENV, PORT: String(port) } });
      const { code } = await server.exited;
      assert.equal(code, 1);
      assert.match(server.stderr(), new RegExp(`^ticketbridge: cannot listen on 127.0.0.1:${port} \\(EADDRINUSE\\)`));
    } finally {
      blocker.close();
    }
  });
});

describe('a running server', () => {
  test('first start creates admin with a password printed once; it signs in; a restart prints none', async () => {
    const dir = tempDir();
    const first = launchServer({ cwd: dir, env: BASE_ENV });
    const url = await first.url;
    const password = firstAdminPassword(first.stdout());
    assert.ok(password, 'the first start prints the admin password');
    const client = new Client(url);
    assert.equal((await client.login('admin', password)).status, 303);
    assert.match((await client.get('/index.php?view=tickets')).text, /admin<\/bdi> · Admin/);
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);

    const second = launchServer({ cwd: dir, env: BASE_ENV });
    await second.url;
    assert.equal(firstAdminPassword(second.stdout()), undefined);
    assert.doesNotMatch(second.stdout(), new RegExp(password));
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);

    const { db } = openDatabase(path.join(dir, 'data/app.db'));
    try {
      assert.ok(fs.existsSync(path.join(dir, 'uploads')), 'the uploads folder is created');
      const actions = recentAuditRows(db, 20).map((row) => row.action);
      assert.ok(actions.includes('user.create'));
      assert.ok(actions.includes('login.success'));
    } finally {
      db.close();
    }
  });

  test('logs are JSON lines with a level, and never contain secrets or passwords', async () => {
    const secrets = {
      GAME_API_TOKEN: 'game-token-9f8e7d6c5b4a',
      SESSION_SECRET: 'session-secret-0123456789abcdefghijklmnop',
      SMTP_URL: 'smtp://mailer:smtp-pass-77@127.0.0.1:2525',
      TELEGRAM_BOT_TOKEN: '123456:telegram-secret-ABCDEFGHIJKLMNOP',
    };
    const server = launchServer({ cwd: tempDir(), env: { ...BASE_ENV, LOG_LEVEL: 'debug', ...secrets } });
    const url = await server.url;
    const admin = firstAdminPassword(server.stdout())!;
    const client = new Client(url);
    await client.login('admin', 'typed-wrong-password-42');
    await client.login('admin', admin);
    server.child.kill('SIGTERM');
    await server.exited;

    const output = server.stdout() + server.stderr();
    for (const value of [...Object.values(secrets), 'smtp-pass-77', 'typed-wrong-password-42']) {
      assert.ok(!output.includes(value), `the log must not contain ${value}`);
    }
    const logLines = server.stdout().split('\n').filter((line) => line.startsWith('{'));
    assert.ok(logLines.length > 5);
    for (const line of logLines) {
      const entry = JSON.parse(line) as { level?: string; time?: string; msg?: string };
      assert.ok(entry.level && entry.time && entry.msg, line);
      assert.ok(!line.includes(admin), 'the admin password is printed outside the log stream only');
    }
    assert.ok(logLines.some((line) => /"msg":"sign-in refused"/.test(line)));
    assert.ok(logLines.some((line) => /"msg":"email: /.test(line)), 'each integration reports its state once');
  });

  test('LOG_FORMAT=pretty: one readable line per event, secrets still out', async () => {
    const secrets = { GAME_API_TOKEN: 'game-token-pretty-9f8e7d6c', TELEGRAM_BOT_TOKEN: '123456:pretty-secret-ABCDEFGHIJKLMNOPQ' };
    const server = launchServer({ cwd: tempDir(), env: { ...BASE_ENV, LOG_FORMAT: 'pretty', ...secrets } });
    const url = await server.url;
    const admin = firstAdminPassword(server.stdout())!;
    await new Client(url).login('admin', 'typed-wrong-password-43');
    server.child.kill('SIGTERM');
    await server.exited;
    const output = server.stdout() + server.stderr();
    for (const value of [...Object.values(secrets), 'typed-wrong-password-43']) assert.ok(!output.includes(value), `the log must not contain ${value}`);
    const logLines = server.stdout().split('\n').filter((line) => /^\[\d{4}-/.test(line));
    assert.ok(logLines.some((line) => /\] INFO: listening on http:\/\/127\.0\.0\.1:\d+ \{/.test(line)), server.stdout());
    assert.ok(logLines.some((line) => /\] WARN: sign-in refused/.test(line) || /sign-in refused/.test(line)));
    assert.ok(!server.stdout().split('\n').some((line) => line.startsWith('{')), 'no JSON lines');
    for (const line of logLines) assert.ok(!line.includes(admin));
  });

  test('LOG_LEVEL=warn hides info lines', async () => {
    const server = launchServer({ cwd: tempDir(), env: { ...BASE_ENV, LOG_LEVEL: 'warn' } });
    // With info hidden the "listening" line is not printed; wait for the admin banner instead.
    await pollUntil(() => /password: /.test(server.stdout()), 15_000, 'the admin banner');
    server.child.kill('SIGTERM');
    await server.exited;
    assert.doesNotMatch(server.stdout(), /"level":"info"/);
    assert.match(server.stdout(), /"level":"warn"/);
  });

  test('SIGTERM mid-request: no new connections, the request in flight finishes, exit 0', async () => {
    const dir = tempDir();
    const server = launchServer({ cwd: dir, env: BASE_ENV });
    const url = new URL(await server.url);
    const password = firstAdminPassword(server.stdout())!;

    // A browser-like session with a CSRF token, then a sign-in whose body is still arriving.
    const client = new Client(url.origin);
    const token = csrfFrom((await client.get('/index.php?view=login')).text)!;
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const body = new URLSearchParams({ _csrf: token, username: 'admin', password }).toString();
    const socket = net.connect(Number(url.port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString('utf8')));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    // `Expect: 100-continue`: the server's "100 Continue" says it is handling the request.
    socket.write(
      `POST /index.php?view=login HTTP/1.1\r\nHost: ${url.host}\r\nCookie: ${cookie}\r\nExpect: 100-continue\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
        body.slice(0, 10),
    );
    await pollUntil(() => response.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 10_000, 'the server to take the request');

    server.child.kill('SIGTERM');
    await pollUntil(() => /"msg":"stopping/.test(server.stdout()), 10_000, 'the stopping line').catch(() => undefined);
    assert.match(server.stdout(), /"msg":"stopping/);

    // The listener is closed: a new visitor is refused while the old request is still open.
    await assert.rejects(fetch(`${url.origin}/healthz`));

    socket.write(body.slice(10));
    await ended;
    const final = response.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
    assert.match(final, /^HTTP\/1\.1 303 See Other\r\n/, final.slice(0, 200));
    assert.match(final, /\r\nLocation: \/index\.php\?view=tickets\r\n/);
    const exit = await server.exited;
    assert.equal(exit.code, 0);
    assert.match(server.stdout(), /"msg":"stopped"/);
  });
});

describe('the server process with the Discord bridge configured', () => {
  test('connects to Discord, reports ready on /healthz, and a game PM becomes a ticket channel; SIGTERM stops it cleanly', async () => {
    const { startFakeDiscord } = await import('../../support/fakes/discord.js');
    const fake = await startFakeDiscord();
    let server: ReturnType<typeof launchServer> | undefined;
    try {
      const token = 'game-token-for-the-process-test';
      server = launchServer({
        cwd: tempDir(),
        env: { ...BASE_ENV, GAME_API_TOKEN: token, DISCORD_TOKEN: fake.token, DISCORD_GUILD_ID: fake.guildId, DISCORD_API_URL: fake.apiUrl },
      });
      const url = await server.url;
      let state = '';
      await pollUntilAsync(
        async () => {
          const body = (await (await fetch(`${url}/healthz`)).json()) as { integrations: { discord: { state: string } } };
          state = body.integrations.discord.state;
          return state === 'ready';
        },
        15_000,
        'discord to be ready on /healthz',
      ).catch(() => undefined);
      assert.equal(state, 'ready', 'discord is ready on /healthz');
      const response = await fetch(`${url}/api/game/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: '[action: ticket][via: pm][account_id: 2000001][char_id: 150001][name: Process Test][message: hello from the game]',
      });
      assert.deepEqual(withoutEncoded((await response.json()) as Record<string, unknown>), { ok: true, ticket_id: 1, whispers: [{ to: 'Process Test', text: 'Ticket Created on Discord. PM @Support to use' }] });
      await fake.waitFor(() => fake.channelByName('ticket-process-test'), 5000, 'the ticket channel');
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    } finally {
      // A failed assertion above must not leave the server running (the test file would never end).
      if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
      await fake.stop();
    }
  });
});

describe('stopping with a long poll waiting', () => {
  test('SIGTERM answers a waiting whisper poll at once and exits 0', async () => {
    const token = 'game-token-for-the-stop-test';
    const server = launchServer({ cwd: tempDir(), env: { ...BASE_ENV, GAME_API_TOKEN: token } });
    const url = await server.url;
    const poll = getExpectingContinue(`${url}/api/game/whispers?wait=60`, { authorization: `Bearer ${token}` });
    await poll.continued;
    const started = Date.now();
    server.child.kill('SIGTERM');
    const response = await poll.answer;
    assert.deepEqual(JSON.parse(response.body), { whispers: [] });
    assert.equal((await server.exited).code, 0);
    assert.ok(Date.now() - started < 5000, `stopped after ${Date.now() - started} ms`);
  });
});
