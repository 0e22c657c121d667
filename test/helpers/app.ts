// Test harness: the real app on a temporary SQLite file, over real HTTP on 127.0.0.1, for the
// cookie-keeping client of support/client.ts.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createAccount } from '../../src/accounts.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { markEmailVerified, setUserEmail, type Role, type User } from '../../src/db/users.js';
import { createLogger } from '../../src/log.js';
import { saveLimits, type Limits } from '../../src/tickets/quotas.js';
import { createApp, createHttpServer, type REQUEST_TIMEOUTS, type AppOptions } from '../../src/web/app.js';

export const NO_LIMITS: Limits = { ticketsPerMinute: 0, repliesPerMinute: 0, uploadsPerHour: 0, uploadBytesPerDay: 0 };

export function tempDir(prefix = 'tb-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  const result = loadConfig(
    { DATABASE_PATH: path.join(dir, 'app.db'), UPLOADS_DIR: path.join(dir, 'uploads'), TZ: 'UTC', LOG_LEVEL: 'debug', ...env },
    dir,
  );
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

export interface TestApp {
  url: string;
  db: Db;
  dir: string;
  config: Config;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startApp(
  options: {
    dir?: string;
    env?: Record<string, string>;
    db?: Db;
    app?: Partial<Pick<AppOptions, 'bridgeConnected' | 'bridgeHasRoom' | 'signals' | 'integrations' | 'telegramBotUsername' | 'refusalWindowMs' | 'gameApi' | 'deliveries' | 'recheckIntegrations' | 'sendTestNotification' | 'backups'>>;
    timeouts?: typeof REQUEST_TIMEOUTS;
    /**
     * Posting limits for players (src/tickets/quotas.ts). Tests post far faster than any player, so
     * unless a test is about limits (and passes them) there are none.
     */
    limits?: Limits;
  } = {},
): Promise<TestApp> {
  const dir = options.dir ?? tempDir();
  const config = testConfig(dir, options.env);
  const db = options.db ?? openDatabase(config.databasePath).db;
  saveLimits(db, options.limits ?? NO_LIMITS);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger('debug', sink);
  // Every refusal is its own audit row unless a test asks for the one-a-minute coalescing.
  const { app, close } = createApp({ db, config, logger, sessionSecret: 'test-secret-test-secret-test-secret!', refusalWindowMs: 0, ...options.app });
  const server = createHttpServer(app, options.timeouts).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    dir,
    config,
    logs,
    async close() {
      close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.db) db.close();
    },
  };
}

export async function addUser(db: Db, username: string, password = 'correct horse battery', role: Role = 'user'): Promise<User> {
  return createAccount(db, { username, password, role });
}

/** A player who reads mail at a confirmed `email` (notification tests), and plays `gameAccountId` if given. */
export async function addMailedPlayer(db: Db, username: string, email: string, gameAccountId?: number): Promise<User> {
  const user = await createAccount(db, { username, password: 'correct horse battery', role: 'user', gameAccountId: gameAccountId ?? null });
  setUserEmail(db, user.id, email);
  markEmailVerified(db, user.id, email);
  return user;
}

// The cookie-keeping client lives in support/client.ts (shared with scripts/ and bench/).
export { Client, csrfFrom, type Reply, type UploadFile } from '../../support/client.js';

/** Files currently under an uploads folder (to prove nothing is left behind). */
export function uploadedFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => !name.startsWith('.'));
}

/** The rows of the tickets list: id and status from the data-ticket-id and data-status hooks of views/tickets.ejs. */
export function listedTickets(html: string): { id: number; status: string }[] {
  return [...html.matchAll(/<tr data-ticket-id="(\d+)" data-status="([a-z_]+)"/g)].map((m) => ({ id: Number(m[1]), status: m[2]! }));
}

export function waitingBadge(html: string): number | undefined {
  const value = /data-waiting-count="(\d+)"/.exec(html)?.[1];
  return value === undefined ? undefined : Number(value);
}

export const PNG_BYTES = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d4948445200000001', 'hex'), Buffer.alloc(64, 7)]);
