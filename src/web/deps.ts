// What every handler of the dashboard gets (AppDeps), and the cookie names: a module of its own,
// so the handlers, the route table and the dispatcher depend on it and not on src/web/app.ts,
// which builds the app from them (no import cycle).
import type { RequestHandler } from 'express';
import type { RefusalAudit } from '../audit.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { OutboxSignals } from '../db/outboxes.js';
import type { IntegrationState } from '../integrations.js';
import type { Logger } from '../log.js';
import type { LastBackup } from '../backup.js';
import type { FailureLimiter } from './limits.js';

export const SESSION_COOKIE = 'tb_session';
export const SIDEBAR_COOKIE = 'tb_sidebar';
/** A visitor's `?lang=` choice (src/web/locale.ts). */
export const LOCALE_COOKIE = 'tb_lang';

export interface AppDeps {
  db: Db;
  config: Config;
  logger: Logger;
  signals: OutboxSignals;
  /** Sign-in failures per address (express-rate-limit); current-password guesses per account. */
  limiters: { login: RequestHandler; passwordGuesses: FailureLimiter; adminTests: FailureLimiter };
  /** Multipart parsing with attachment checks (src/web/uploads/middleware.ts). */
  uploads: RequestHandler;
  /** Refused reads, written to the audit log once a minute per actor and address (src/audit.ts). */
  refusals: RefusalAudit;
  /** Current state of the optional integrations (health page, admin page). */
  integrations: () => Record<string, IntegrationState>;
  /** Checks Discord's setup again now, from freshly fetched roles and channels; integrations() shows the result. */
  recheckIntegrations: () => Promise<void>;
  /**
   * Sends a test email (to an address) or Telegram message (to a chat id) through the configured
   * sender, recorded in integrations(). Absent in an app built without senders (tests).
   */
  sendTestNotification?: (channel: 'email' | 'telegram', to: string) => Promise<{ ok: true } | { ok: false; error: string }>;
  /** The backup schedule (BACKUP_DIR set and started by src/server.ts); absent when backups are off. */
  backups?: BackupControl;
  /** The Telegram bot's @username, once known (for the deep link on the settings page). */
  telegramBotUsername: () => string | undefined;
}


/** What the admin page needs of the backup schedule (src/backup.ts createBackupSchedule). */
export interface BackupControl {
  /** When the next scheduled run is due (ms since the epoch), while the schedule runs. */
  nextAt(): number | undefined;
  running(): boolean;
  /** Makes one now (or joins the one running). */
  runNow(): Promise<LastBackup>;
}
