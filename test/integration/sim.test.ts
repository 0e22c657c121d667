// `npm run sim` (scripts/sim.ts) as a user runs it: a child process with its stdin piped, against
// the real server process (support/server.ts) with the fake Discord, and against a stub game API
// for what the server does not do by itself (whispers with `encoded`, a connection cut mid-action).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { openDatabase, prepared, type Db } from '../../src/db/index.js';
import { startFakeDiscord, type FakeDiscord } from '../../support/fakes/discord.js';
import { pollUntil, pollUntilAsync } from '../../support/fakes/wait.js';
import { childEnv, launchServer, tsArgs, type Exit, type ServerProcess } from '../../support/server.js';
import { tempDir } from '../helpers/app.js';
import { runSync } from '../helpers/process.js';

const TOKEN = 'game-token-for-the-sim-test';
const WAIT_MS = 15_000;

/** scripts/sim.ts in a child process; `send` types a line, `line` waits for one to be printed. */
class Sim {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private out = '';
  private err = '';

  constructor(args: string[]) {
    this.child = spawn(process.execPath, tsArgs('scripts/sim.ts', ...args), { cwd: tempDir(), env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.stdout!.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.err += chunk.toString('utf8')));
  }

  lines(): string[] {
    return this.out.split('\n');
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Waits for a printed line equal to `expected` (or matching it) and returns it. */
  line(expected: string | RegExp): Promise<string> {
    const matches = (line: string) => (typeof expected === 'string' ? line === expected : expected.test(line));
    return pollUntil(() => this.lines().find(matches), WAIT_MS, `the sim to print ${expected}; it printed:\n${this.out}${this.err}`);
  }

  /** The end of the input: the sim prints the answers in flight and exits. */
  async end(): Promise<Exit> {
    this.child.stdin!.end();
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

describe('npm run sim against the real server with the fake Discord', () => {
  let fake: FakeDiscord;
  let server: ServerProcess;
  let url: string;
  let db: Db;
  let staffId: string;
  const sims: Sim[] = [];
  const sim = (args: string[] = ['--url', url, '--token', TOKEN]) => {
    const started = new Sim(args);
    sims.push(started);
    return started;
  };

  before(async () => {
    fake = await startFakeDiscord({ channelRenameLimit: false });
    const staffRoleId = fake.addStaffRole('Support');
    staffId = '400000000000000001';
    fake.addMember(staffId, 'GM Sam', [staffRoleId]);
    const dir = tempDir();
    server = launchServer({
      cwd: dir,
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        GAME_API_TOKEN: TOKEN,
        DISCORD_TOKEN: fake.token,
        DISCORD_GUILD_ID: fake.guildId,
        DISCORD_API_URL: fake.apiUrl,
        DISCORD_STAFF_ROLE_IDS: staffRoleId,
      },
    });
    url = await server.url;
    await pollUntilAsync(
      async () => {
        const health = (await (await fetch(`${url}/healthz`)).json()) as { integrations: { discord: { state: string } } };
        return health.integrations.discord.state === 'ready';
      },
      WAIT_MS,
      'discord to be ready on /healthz',
    );
    db = openDatabase(path.join(dir, 'data/app.db')).db;
  });

  after(async () => {
    for (const s of sims) s.kill();
    db?.close();
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await fake?.stop();
  });

  test('a whole conversation: login, PM, a staff answer in Discord whispered and acked, logout, /quit', async () => {
    const hero = sim();
    hero.send('/login Hero');
    const online = await hero.line(/^Hero is online \(account_id \d+, char_id \d+\)/);
    hero.send('I lost my sword');
    await hero.line('Hero sees: Ticket Created on Discord. PM @Support to use');

    const channel = await fake.waitFor(() => fake.channelByName('ticket-hero'), WAIT_MS, 'the ticket channel');
    fake.userSays(channel.id, { userId: staffId, content: 'Which map were you on?' });
    await hero.line('[Hero] GM Sam : Which map were you on?');
    const acked = () => prepared(db, 'SELECT acked_at AS at FROM game_whispers WHERE text = ?').get('Which map were you on?') as { at: number | null } | undefined;
    await pollUntil(() => acked()?.at, WAIT_MS, 'the whisper to be acked');

    hero.send('/logout');
    await hero.line(/^Hero logout: ok, ticket #\d+, closed, nothing to whisper$/);
    await fake.waitFor(() => !fake.channels.has(channel.id), WAIT_MS, 'the channel to be deleted (close on logout)');
    hero.send('/quit');
    assert.deepEqual(await hero.exited, { code: 0, signal: null });

    // The same name is the same character next time: the ids are derived from it.
    const again = sim();
    again.send('/login Hero');
    assert.equal(await again.line(/^Hero is online/), online);
    assert.equal((await again.end()).code, 0);
  });

  test('two characters online: /login, /who, /switch; each gets its own ticket and its own answers', async () => {
    const game = sim();
    game.send('/login Mage 2000101 150101');
    await game.line('Mage is online (account_id 2000101, char_id 150101); plain text is a PM to @Support');
    game.send('/login Rogue 2000102 150102');
    await game.line(/^Rogue is online/);
    game.send('/who');
    await game.line('* Rogue (account_id 2000102, char_id 150102)');
    await game.line('  Mage (account_id 2000101, char_id 150101)');
    game.send('someone stole my loot');
    await game.line('Rogue sees: Ticket Created on Discord. PM @Support to use');
    game.send('/switch Mage');
    await game.line('now playing Mage');
    game.send('/request my pet ran away');
    await game.line('Mage sees: [RagnaSync Ticket]: my pet ran away');

    const mage = await fake.waitFor(() => fake.channelByName('ticket-mage'), WAIT_MS, 'the Mage channel');
    const rogue = await fake.waitFor(() => fake.channelByName('ticket-rogue'), WAIT_MS, 'the Rogue channel');
    fake.userSays(rogue.id, { userId: staffId, content: 'We are looking into it' });
    fake.userSays(mage.id, { userId: staffId, content: 'Check the kennel in Prontera' });
    await game.line('[Rogue] GM Sam : We are looking into it');
    await game.line('[Mage] GM Sam : Check the kennel in Prontera');

    game.send('/switch Nobody');
    await game.line('error: Nobody is not online (/who lists who is)');
    assert.equal((await game.end()).code, 0);
  });

  test('from a pipe: the input ends at once, the answers in flight are still printed, exit 0', async () => {
    const piped = sim();
    piped.child.stdin!.end('/login Piper\nhello from a pipe\n/request and a request\n');
    assert.equal((await piped.exited).code, 0);
    const lines = piped.lines();
    assert.ok(lines.includes('Piper sees: Ticket Created on Discord. PM @Support to use'), lines.join('\n'));
    assert.ok(lines.includes('Piper sees: [RagnaSync Ticket]: and a request'), lines.join('\n'));
  });

  test('--lang es: the whisper texts come in Spanish', async () => {
    const piped = sim(['--url', url, '--token', TOKEN, '--lang', 'es']);
    piped.child.stdin!.end('/login Lola\nhola\n/request otra vez\n');
    assert.equal((await piped.exited).code, 0);
    const lines = piped.lines();
    assert.ok(lines.includes('Lola sees: Ticket creado en Discord. Envía un PM a @Support para usarlo'), lines.join('\n'));
    assert.ok(lines.includes('Lola sees: [Ticket RagnaSync]: otra vez'), lines.join('\n'));
  });

  test('a wrong token: the action and the long poll print the error', async () => {
    const wrong = sim(['--url', url, '--token', 'not-the-right-token']);
    wrong.send('/login Hero');
    wrong.send('hello');
    await wrong.line('error: missing or wrong bearer token (HTTP 401)');
    await wrong.line('whispers: error: missing or wrong bearer token (HTTP 401)');
    assert.equal((await wrong.end()).code, 0);
  });

  test('Ctrl-C while the long poll waits: it is aborted and the sim exits 0 at once', async () => {
    const waiting = sim();
    await waiting.line(/^sim: game API at /);
    // The poll waits up to 25 s on the server; an exit well before that means it was aborted.
    const started = Date.now();
    waiting.child.kill('SIGINT');
    assert.deepEqual(await waiting.exited, { code: 0, signal: null });
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
  });
});

describe('npm run sim against a stub game API', () => {
  test('whispers are decoded from `encoded` in --encoding; a cut connection is retried once with the same request_id', async () => {
    const cp1251 = (text: string) => iconv.encode(text, 'cp1251').toString('base64');
    const actions: { request_id: string; name: string; message: string }[] = [];
    const acks: number[][] = [];
    const heldPolls: http.ServerResponse[] = [];
    const stub = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        if (req.url === '/api/game/actions') {
          actions.push(JSON.parse(body) as (typeof actions)[number]);
          // The first try is cut before an answer: a network error for the sim.
          if (actions.length === 1) return req.socket.destroy();
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify({ ok: true, ticket_id: 3, whispers: [{ to: 'Иван', text: 'Тикет создан', encoded: cp1251('Тикет создан') }] }));
        }
        if (req.url === '/api/game/whispers/ack') {
          acks.push((JSON.parse(body) as { ids: number[] }).ids);
          res.setHeader('content-type', 'application/json');
          return res.end('{"ok":true,"acked":1}');
        }
        // A poll: held until the test answers it with the whisper (later ones until the end).
        heldPolls.push(res);
      });
    });
    const releasePoll = () => {
      const res = heldPolls.shift();
      if (!res) return;
      const whisper = { id: 9, account_id: 1, char_id: 42, name: 'Иван', from: 'GM Саша', text: 'Привет, Иван', encoded: cp1251('Привет, Иван') };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ whispers: [whisper] }));
    };
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const game = new Sim(['--url', stubUrl, '--token', TOKEN, '--encoding', 'cp1251']);
    try {
      game.send('/login Иван 1 42');
      await game.line('Иван is online (account_id 1, char_id 42); plain text is a PM to @Support');
      game.send('привет');
      await game.line('Иван sees: Тикет создан');
      assert.equal(actions.length, 2);
      assert.match(actions[0]!.request_id, /^sim-/);
      assert.equal(actions[1]!.request_id, actions[0]!.request_id, 'the retry carries the same request_id');
      assert.deepEqual({ name: actions[1]!.name, message: actions[1]!.message }, { name: 'Иван', message: 'привет' });

      await pollUntil(() => heldPolls.length > 0, WAIT_MS, 'a long poll');
      releasePoll();
      await game.line('[Иван] GM Саша : Привет, Иван');
      await pollUntil(() => acks.length > 0, WAIT_MS, 'the ack');
      assert.deepEqual(acks, [[9]]);
      game.send('/quit');
      assert.equal((await game.exited).code, 0);
    } finally {
      game.kill();
      for (const res of heldPolls) res.destroy();
      stub.closeAllConnections();
      await new Promise((resolve) => stub.close(resolve));
    }
  });
});

describe('npm run sim: bad usage is one line and exit code 2', () => {
  const run = (args: string[], env: Record<string, string> = {}) => runSync('scripts/sim.ts', args, { cwd: tempDir(), env });
  test('an unknown flag', () => {
    const result = run(['--bogus', '--token', TOKEN]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sim: Unknown option '--bogus' \(usage: npm run sim -- \[--url URL\] \[--token T\] \[--encoding E\] \[--lang L\]\)\n$/);
  });
  test('no token', () => {
    const result = run([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sim: no token: pass --token or set GAME_API_TOKEN \(usage: [^\n]*\)\n$/);
  });
  test('an unknown encoding', () => {
    const result = run(['--encoding', 'klingon'], { GAME_API_TOKEN: TOKEN });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sim: unknown --encoding "klingon" \(usage: [^\n]*\)\n$/);
  });
});
