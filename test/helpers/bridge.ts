// The whole bridge in one test process: the real app (game API + dashboard) and the real
// discord.js bridge, against the fake Discord on 127.0.0.1.
import { Writable } from 'node:stream';
import { createDiscordBridge, type DiscordBridge } from '../../src/discord/bridge.js';
import { createLogger } from '../../src/log.js';
import { Signal } from '../../src/signal.js';
import { startFakeDiscord, type FakeDiscord } from '../../support/fakes/discord.js';
import type { AppOptions } from '../../src/web/app.js';
import { startApp, tempDir, type TestApp } from './app.js';

export const GAME_TOKEN = 'game-server-token-0123456789';

export interface BridgedSetup {
  app: TestApp;
  fake: FakeDiscord;
  bridge: DiscordBridge;
  staffRoleId: string;
  staffId: string;
  logChannelId: string;
  /** The app's wake-up signals (a notification worker under test must share them). */
  signals: { whispers: Signal; discordWork: Signal; notifications: Signal };
  /** Every line the bridge logged, parsed (BRIDGE_LOG_LEVEL=debug also prints them). */
  logs: Record<string, unknown>[];
  /** Stops the bridge and the app (not the fake), e.g. to restart against the same database. */
  stopBridge(): Promise<void>;
  close(): Promise<void>;
}

export async function startBridged(
  options: { fake?: FakeDiscord; dir?: string; env?: Record<string, string>; app?: Pick<AppOptions, 'telegramBotUsername'> } = {},
): Promise<BridgedSetup> {
  const fake = options.fake ?? (await startFakeDiscord({ channelRenameLimit: false }));
  const staffRoleId = options.fake ? ([...fake.roles.values()].find((r) => r.name === 'Support')?.id ?? fake.addStaffRole('Support')) : fake.addStaffRole('Support');
  const staffId = '400000000000000001';
  if (!fake.members.has(staffId)) fake.addMember(staffId, 'GM Sam', [staffRoleId]);
  const log = fake.channelByName('ticket-log') ?? fake.addChannel({ name: 'ticket-log' });
  const signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
  // The app asks the bridge, which needs the app's database: the holder breaks the circle.
  const holder: { bridge?: DiscordBridge } = {};
  const app = await startApp({
    dir: options.dir ?? tempDir(),
    env: {
      GAME_API_TOKEN: GAME_TOKEN,
      DISCORD_TOKEN: fake.token,
      DISCORD_GUILD_ID: fake.guildId,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_STAFF_ROLE_IDS: staffRoleId,
      DISCORD_LOG_CHANNEL_ID: log.id,
      ...options.env,
    },
    app: {
      ...options.app,
      signals,
      bridgeConnected: () => holder.bridge?.isConnected() ?? false,
      bridgeHasRoom: () => holder.bridge?.canOpenTickets() ?? false,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env.BRIDGE_LOG_LEVEL) process.stdout.write(chunk);
      callback();
    },
  });
  const bridge = createDiscordBridge({ db: app.db, config: app.config, logger: createLogger('debug', sink), signals });
  await bridge.start();
  holder.bridge = bridge;
  await fake.waitFor(() => bridge.isConnected(), 15_000, 'the bridge to connect');
  await fake.waitFor(() => fake.commands.length > 0, 5000, 'slash commands');
  const stopBridge = async () => {
    await bridge.stop();
    await app.close();
  };
  return {
    app,
    fake,
    bridge,
    staffRoleId,
    staffId,
    logChannelId: log.id,
    signals,
    logs,
    stopBridge,
    async close() {
      await stopBridge();
      if (!options.fake) await fake.stop();
    },
  };
}

/**
 * A game API answer with each whisper's `encoded` checked to be exactly the UTF-8 bytes of its
 * `text`, then set aside, so tests read the texts a player sees (GAME_TEXT_ENCODING is UTF-8 unless
 * a test sets it; test/integration/gameEncodings.test.ts checks the other code pages).
 */
export function withoutEncoded<T extends Record<string, unknown>>(json: T): T {
  for (const w of Array.isArray(json.whispers) ? (json.whispers as Record<string, unknown>[]) : []) {
    if (typeof w.encoded !== 'string' || Buffer.from(w.encoded, 'base64').toString('utf8') !== w.text) {
      throw new Error(`whisper encoded ${String(w.encoded)} is not the UTF-8 of ${JSON.stringify(w.text)}`);
    }
    delete w.encoded;
  }
  return json;
}

/** The game server's side of the API. */
export function gameServer(baseUrl: string) {
  const call = async (method: string, pathname: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}/api/game${pathname}`, {
      method,
      headers: { authorization: `Bearer ${GAME_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: withoutEncoded((await response.json()) as Record<string, unknown>) };
  };
  return {
    call,
    ticket: (player: { account_id: number; char_id: number; name: string }, via: 'pm' | 'request', message: string, requestId?: string) =>
      call('POST', '/actions', { action: 'ticket', via, ...player, message, ...(requestId ? { request_id: requestId } : {}) }),
    logout: (player: { account_id: number; char_id: number; name: string }) => call('POST', '/actions', { action: 'logout', ...player }),
    async whispers(wait = 5): Promise<{ id: number; name: string; from: string; text: string; char_id: number }[]> {
      const { json } = await call('GET', `/whispers?wait=${wait}`);
      const list = json.whispers as { id: number; name: string; from: string; text: string; char_id: number }[];
      if (list.length) await call('POST', '/whispers/ack', { ids: list.map((w) => w.id) });
      return list;
    },
  };
}
