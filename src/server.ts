// Entry point: config -> database (migrate) -> web app -> listen; a graceful stop on SIGTERM/SIGINT.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ensureFirstAdmin } from './accounts.js';
import { loadConfig, type Config } from './config.js';
import { MigrationError, openDatabase, SchemaTooNewError, type Db } from './db/index.js';
import { settingOrInit } from './db/settings.js';
import { createLogger, type Logger } from './log.js';
import { DeliveryRecord, type IntegrationState } from './integrations.js';
import { secretValues } from './redact.js';
import { createBackupSchedule, lastBackup } from './backup.js';
import { acquireDatabaseLock, LockHeldError, type DatabaseLock } from './db/backup.js';
import { attachmentStorageNameExists } from './db/attachments.js';
import { createDiscordBridge, type DiscordBridge } from './discord/bridge.js';
import { outboxSignals } from './db/outboxes.js';
import { logBadSettings } from './settings.js';
import { createEmailSender } from './notify/email.js';
import { createTelegramService } from './notify/telegram.js';
import { checkSmtp, sendTestNotification } from './notify/doctor.js';
import { createNotificationWorker, trackedSenders } from './notify/worker.js';
import { createRedactor } from './redact.js';
import { createApp, createHttpServer } from './web/app.js';
import { removeOrphanUploads } from './web/uploads/sweep.js';
import { createStaleWorker } from './tickets/stale.js';
import { notifyChannelsOf } from './tickets/notifications.js';

/** A kept session secret is the 43 characters of 32 random bytes; anything shorter is made anew. */
const SESSION_SECRET_SCHEMA = z.string().min(32);

/** How long a stop waits for requests in flight before cutting the remaining connections. */
const SHUTDOWN_GRACE_MS = 10_000;

function fail(line: string): never {
  process.stderr.write(`ticketbridge: ${line}\n`);
  process.exit(1);
}

/** What each integration's deliveries did since the start: their states and the failure counter read them. */
interface Deliveries {
  email: DeliveryRecord;
  telegram: DeliveryRecord;
  discord: DeliveryRecord;
}

/**
 * Each optional integration's state for /healthz and the admin page: off (with what to set), or
 * what really happened (an SMTP server or Bot API that cannot be reached is down, with its last
 * error), and Discord's connection with its setup problems. Each says once at start whether it is on.
 */
function integrationStates(config: Config, logger: Logger, discord: DiscordBridge | undefined, deliveries: Deliveries): () => Record<string, IntegrationState> {
  const off: Record<string, IntegrationState> = {
    gameApi: { state: 'off', detail: 'set GAME_API_TOKEN to accept actions from the game server (restart needed)' },
    discord: { state: 'off', detail: 'set DISCORD_TOKEN and DISCORD_GUILD_ID to bridge tickets to Discord (restart needed)' },
    email: { state: 'off', detail: 'set SMTP_URL (and MAIL_FROM) to send email notifications (restart needed)' },
    telegram: { state: 'off', detail: 'set TELEGRAM_BOT_TOKEN to send Telegram notifications (restart needed)' },
  };
  const on = { gameApi: !!config.game.apiToken, discord: !!discord, email: !!config.mail.smtpUrl, telegram: !!config.telegram.botToken };
  for (const [name, isOn] of Object.entries(on)) {
    if (isOn) logger.info({ integration: name }, name === 'discord' ? 'discord: starting' : `${name}: on`);
    else logger.info({ integration: name, state: 'off' }, `${name}: off (${off[name]!.detail})`);
  }
  return () => ({
    gameApi: on.gameApi ? { state: 'ready' } : off.gameApi!,
    discord: discord ? discord.state() : off.discord!,
    email: on.email ? deliveries.email.state('sent from the outbox when an admin switches email on') : off.email!,
    telegram: on.telegram ? deliveries.telegram.state('sent from the outbox when an admin switches Telegram on') : off.telegram!,
  });
}

/**
 * The lock beside the database (src/db/backup.ts): held from start to stop, so a restore cannot
 * replace the database under a running server, and a second server cannot run on the same file.
 */
function lockOrExit(config: Config): DatabaseLock {
  try {
    return acquireDatabaseLock(config.databasePath);
  } catch (err) {
    if (err instanceof LockHeldError) {
      fail(`DATABASE_PATH ${config.databasePath} is in use by another ticketbridge process (a running server or a restore holds ${err.file}); stop it first`);
    }
    fail(`DATABASE_PATH ${config.databasePath}: cannot take the lock beside the database (${(err as Error).message})`);
  }
}

function openOrExit(config: Config): Db {
  try {
    return openDatabase(config.databasePath).db;
  } catch (err) {
    if (err instanceof SchemaTooNewError || err instanceof MigrationError) fail(`DATABASE_PATH ${config.databasePath}: ${err.message}`);
    fail(`DATABASE_PATH ${config.databasePath}: cannot open the database (${(err as Error).message})`);
  }
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const loaded = loadConfig();
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`ticketbridge: ${line}\n`);
    process.exit(1);
  }
  const config = loaded.config;
  const logger = createLogger(config.logLevel, undefined, { format: config.logFormat, secrets: secretValues(config) });
  const lock = lockOrExit(config);
  const db = openOrExit(config);
  logBadSettings(db, logger);
  try {
    fs.mkdirSync(config.uploadsDir, { recursive: true });
  } catch (err) {
    fail(`UPLOADS_DIR ${config.uploadsDir}: cannot create the folder (${(err as Error).message})`);
  }

  const firstAdmin = await ensureFirstAdmin(db);
  if (firstAdmin) {
    logger.warn({ username: firstAdmin.user.username }, 'created the first admin account; its password is printed once below');
    // Printed outside the structured log on purpose: a secret must never reach the log stream.
    process.stdout.write(
      `\n  First start: an administrator account was created.\n` +
        `    username: ${firstAdmin.user.username}\n` +
        `    password: ${firstAdmin.password}\n` +
        `  It is shown only this once. Change it with: npm run cli -- user:passwd admin\n\n`,
    );
  }

  // Without SESSION_SECRET, a random one is made once and kept in the database, so sessions
  // survive restarts with nothing configured.
  const sessionSecret = config.sessionSecret ?? settingOrInit(db, 'session_secret', SESSION_SECRET_SCHEMA, randomBytes(32).toString('base64url'));
  const signals = outboxSignals(db);
  const deliveries: Deliveries = { email: new DeliveryRecord(), telegram: new DeliveryRecord(), discord: new DeliveryRecord() };
  const discord = config.discord.token && config.discord.guildId ? createDiscordBridge({ db, config, logger, signals, deliveries: deliveries.discord }) : undefined;
  const email = config.mail.smtpUrl ? createEmailSender(config) : undefined;
  const telegram = config.telegram.botToken ? createTelegramService({ db, config, logger, record: deliveries.telegram }) : undefined;
  const notifications = createNotificationWorker({
    db,
    config,
    logger,
    signal: signals.notifications,
    senders: { ...(email ? { email: email.send } : {}), ...(telegram ? { telegram: telegram.send } : {}) },
    deliveries,
  });
  // Issue #18: tickets waiting on the player are reminded and closed (at start, then every 15 minutes).
  const staleTickets = createStaleWorker({
    db,
    logger,
    options: { notify: notifyChannelsOf(config), whisperMax: config.game.whisperMax, whisperEncoding: config.game.textEncoding, timeZone: config.timeZone },
  });
  const backups = config.backup.dir
    ? createBackupSchedule({ db, uploadsDir: config.uploadsDir, dir: config.backup.dir, intervalHours: config.backup.intervalHours, keep: config.backup.keep, logger })
    : undefined;
  const { app, close: closeApp, beginShutdown, metrics } = createApp({
    db,
    config,
    logger,
    sessionSecret,
    signals,
    integrations: integrationStates(config, logger, discord, deliveries),
    recheckIntegrations: async () => {
      await discord?.checkSetup();
    },
    sendTestNotification: (channel, to) =>
      sendTestNotification(
        trackedSenders({ ...(email ? { email: email.send } : {}), ...(telegram ? { telegram: telegram.send } : {}) }, deliveries, createRedactor(config)),
        channel,
        to,
        config,
      ),
    deliveries: () => ({ ...(email ? { email: deliveries.email } : {}), ...(telegram ? { telegram: deliveries.telegram } : {}), ...(discord ? { discord: deliveries.discord } : {}) }),
    ...(backups ? { backups } : {}),
    bridgeConnected: () => discord?.isConnected() ?? false,
    bridgeHasRoom: () => discord?.canOpenTickets() ?? false,
    telegramBotUsername: () => telegram?.botUsername(),
  });

  if (!backups) logger.info('backups: off (set BACKUP_DIR to make an archive every BACKUP_INTERVAL_HOURS)');
  // /metrics reads the last backup (a CLI backup too: it is kept in the settings table).
  metrics?.setLastBackup(() => {
    const last = lastBackup(db);
    return last ? { at: last.finishedAt, ok: last.ok, ...(last.ok ? { bytes: last.bytes } : {}) } : undefined;
  });

  const server: Server = createHttpServer(app);
  server.listen(config.port, config.host);
  server.on('error', (err: NodeJS.ErrnoException) => {
    fail(`cannot listen on ${config.host}:${config.port} (${err.code ?? err.message}); set PORT or HOST to a free address`);
  });
  server.on('listening', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ host: config.host, port, url: config.appUrl, database: config.databasePath }, `listening on http://${config.host}:${port}`);
    void discord?.start();
    // The SMTP server greeted once at start (Telegram's getMe does the same), so an unreachable
    // one is down on /healthz at once, not only after the first notification fails.
    if (email) {
      void checkSmtp(config).then((problem) => {
        if (!problem) return deliveries.email.success();
        deliveries.email.failure(problem);
        logger.warn({ integration: 'email' }, `email: ${problem}`);
      });
    }
    telegram?.start();
    notifications.start();
    staleTickets.start();
    try {
      backups?.start();
    } catch (err) {
      logger.error({ err: (err as Error).message }, `backups: cannot use BACKUP_DIR ${config.backup.dir}; no scheduled backups`);
    }
    void removeOrphanUploads(config.uploadsDir, (name) => attachmentStorageNameExists(db, name), startedAt).then((removed) => {
      if (removed.length > 0) logger.warn({ count: removed.length }, 'removed uploaded files that no attachment refers to');
    });
  });

  let stopping = false;
  // Once stopping, a connection whose response is out is closed instead of kept alive.
  server.on('request', (_req, res) => {
    res.on('finish', () => {
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections, finishing requests in flight');
    beginShutdown();
    // A backup under way is asked to stop and leaves no temporary files behind.
    const discordStopped = Promise.all([discord?.stop(), telegram?.stop(), notifications.stop(), staleTickets.stop(), backups?.stop()]).then(() => email?.close());
    server.close(() => {
      void discordStopped.finally(() => {
        closeApp();
        db.close();
        lock.release();
        logger.info('stopped');
        process.exit(0);
      });
    });
    // Idle keep-alive connections go now; busy ones once their response is out.
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn('requests still running after the grace period; closing their connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
  };
  // `kill -USR2 <pid>` (systemctl kill -s USR2 ticketbridge): a scheduled-style backup now.
  process.on('SIGUSR2', () => {
    if (!backups || stopping) {
      logger.warn('SIGUSR2: no backup made (BACKUP_DIR is not set, or the server is stopping)');
      return;
    }
    void backups.runNow();
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`ticketbridge: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
