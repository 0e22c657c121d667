// The top of view=admin (issue #17 points 1 and 3): each integration's real state with its last
// error and what to set to turn it on, the backups' last result and archives, and on a new desk a
// short first-start checklist. Only data here; views/admin.ejs puts it on the page and the actions
// are in handlers/admin.ts.
import fs from 'node:fs';
import path from 'node:path';
import { lastBackup, lastSuccessfulBackup, listArchives, type LastBackup } from '../backup.js';
import { prepared, type Db } from '../db/index.js';
import { notificationProfile, type User } from '../db/users.js';
import type { MessageKey, Translator } from '../i18n/index.js';
import type { IntegrationState } from '../integrations.js';
import type { AppDeps } from './deps.js';

export type TestChannel = 'email' | 'telegram';

const KNOWN: { name: string; label: MessageKey; env: string[]; off: MessageKey; test?: TestChannel }[] = [
  { name: 'gameApi', label: 'admin.integration.gameApi', env: ['GAME_API_TOKEN'], off: 'admin.integration.gameApiOff' },
  { name: 'discord', label: 'admin.integration.discord', env: ['DISCORD_TOKEN', 'DISCORD_GUILD_ID'], off: 'admin.integration.discordOff' },
  { name: 'email', label: 'admin.integration.email', env: ['SMTP_URL', 'MAIL_FROM'], off: 'admin.integration.emailOff', test: 'email' },
  { name: 'telegram', label: 'admin.integration.telegram', env: ['TELEGRAM_BOT_TOKEN'], off: 'admin.integration.telegramOff', test: 'telegram' },
];

/** An icon that means the state (the word is always next to it): a tick, an hourglass, a cross, an empty circle. */
const ICONS: Record<IntegrationState['state'], string> = { ready: '✓', starting: '⧗', down: '✕', off: '○' };

const isoMs = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

export interface IntegrationCard {
  name: string;
  label: string;
  state: IntegrationState['state'];
  stateLabel: string;
  icon: string;
  /** What the state means here, in the page's language. */
  meaning: string;
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** Discord's setup problems, one sentence each with its fix (written by the setup check). */
  problems: string[];
  room?: IntegrationState['room'];
  /** Discord's own words about its connection, when it is not ready and named no problem. */
  detail?: string;
  env: string[];
  test?: TestChannel;
}

/** The integrations as cards, in a fixed order (an unknown one last, under its own name). */
export function integrationCards(i18n: Translator, states: Record<string, IntegrationState>): IntegrationCard[] {
  const names = [...KNOWN.map((k) => k.name), ...Object.keys(states).filter((n) => !KNOWN.some((k) => k.name === n))];
  return names.map((name) => {
    const known = KNOWN.find((k) => k.name === name);
    const s = states[name] ?? { state: 'off' as const };
    const meaning = s.state === 'off' ? (known ? i18n.t(known.off) : '') : i18n.t(`admin.panel.meaning.${s.state}`);
    const lastErrorAt = isoMs(s.lastErrorAt);
    const lastSuccessAt = isoMs(s.lastSuccessAt);
    return {
      name,
      label: known ? i18n.t(known.label) : name,
      state: s.state,
      stateLabel: i18n.t(`admin.integration.state.${s.state}`),
      icon: ICONS[s.state],
      meaning,
      ...(s.lastError ? { lastError: s.lastError } : {}),
      ...(lastErrorAt !== undefined ? { lastErrorAt } : {}),
      ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}),
      problems: s.problems ?? [],
      ...(s.room ? { room: s.room } : {}),
      ...(name === 'discord' && s.detail && s.state !== 'ready' && s.state !== 'off' && !(s.problems?.length) ? { detail: s.detail } : {}),
      env: known?.env ?? [],
      ...(known?.test ? { test: known.test } : {}),
    };
  });
}

/** True when a test message can be sent through `channel` (its sender is there and it is not off). */
export function canSendTest(deps: AppDeps, channel: TestChannel): boolean {
  if (!deps.sendTestNotification) return false;
  const state = deps.integrations()[channel]?.state ?? 'off';
  return state !== 'off';
}

/** Where a test goes unless the admin types another: their own address, their linked chat. */
export function testDefaults(db: Db, user: User): { email: string; telegram: string } {
  const profile = notificationProfile(db, user.id);
  return { email: profile?.email ?? '', telegram: profile?.telegramChatId ?? '' };
}

// ---------------------------------------------------------------------------------------------
// Backups

export interface BackupPanel {
  on: boolean;
  dir?: string;
  intervalHours: number;
  keep: number;
  /** The schedule runs in this process ("Back up now" is possible). */
  canRun: boolean;
  running: boolean;
  nextAt?: number;
  last?: LastBackup & { name?: string };
  lastOk?: { at: number; name: string; bytes: number; durationMs: number };
  archives: { name: string; at: number; bytes?: number }[];
}

const MAX_ARCHIVES_SHOWN = 30;

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

export function backupPanel(deps: AppDeps): BackupPanel {
  const { dir, intervalHours, keep } = deps.config.backup;
  const last = lastBackup(deps.db);
  const ok = lastSuccessfulBackup(deps.db);
  const nextAt = deps.backups?.nextAt();
  return {
    on: !!dir,
    ...(dir ? { dir } : {}),
    intervalHours,
    keep,
    canRun: !!deps.backups,
    running: deps.backups?.running() ?? false,
    ...(nextAt !== undefined ? { nextAt } : {}),
    ...(last ? { last: { ...last, ...(last.ok ? { name: path.basename(last.file) } : {}) } } : {}),
    ...(ok && !(last?.ok && last.finishedAt === ok.finishedAt) ? { lastOk: { at: ok.at, name: path.basename(ok.file), bytes: ok.bytes, durationMs: ok.durationMs } } : {}),
    archives: dir
      ? listArchives(dir)
          .slice(0, MAX_ARCHIVES_SHOWN)
          .map((a) => {
            const bytes = sizeOf(a.file);
            return { name: a.name, at: a.at, ...(bytes !== undefined ? { bytes } : {}) };
          })
      : [],
  };
}

// ---------------------------------------------------------------------------------------------
// The first-start checklist

export interface ChecklistItem {
  name: 'password' | 'staff' | 'discord' | 'gameToken';
  done: boolean;
  label: MessageKey;
  href: string;
}

/**
 * The account made at the first start with a generated password (src/accounts.ts ensureFirstAdmin
 * writes `user.create` with reason "first start"), while that password was never changed: no
 * `user.password` (changed by themselves) or `user.password_reset` (by another admin or the CLI)
 * row names it since. Undefined when there is no such account, or it is disabled.
 */
function generatedPasswordKept(db: Db): boolean {
  const row = prepared(
    db,
    `SELECT u.id AS id FROM audit_log a JOIN users u ON u.id = json_extract(a.details, '$.userId')
     WHERE a.action = 'user.create' AND json_extract(a.details, '$.reason') = 'first start' AND u.disabled_at IS NULL
     ORDER BY a.id LIMIT 1`,
  ).get() as { id: number } | undefined;
  if (!row) return false;
  const changed = prepared(db, "SELECT 1 AS yes FROM audit_log WHERE action IN ('user.password', 'user.password_reset') AND json_extract(details, '$.userId') = ? LIMIT 1").get(row.id);
  return changed === undefined;
}

/**
 * On a new desk (no ticket yet) the steps that make it work, each done or not; undefined once
 * there are tickets or every step is done.
 */
export function firstStartChecklist(db: Db, states: Record<string, IntegrationState>): ChecklistItem[] | undefined {
  const anyTicket = prepared(db, 'SELECT 1 AS yes FROM tickets LIMIT 1').get() !== undefined;
  if (anyTicket) return undefined;
  const team = (prepared(db, "SELECT COUNT(*) AS n FROM users WHERE role IN ('staff', 'admin') AND disabled_at IS NULL").get() as { n: number }).n;
  const items: ChecklistItem[] = [
    { name: 'password', done: !generatedPasswordKept(db), label: 'admin.checklist.password', href: '/index.php?view=settings#password' },
    { name: 'staff', done: team > 1, label: 'admin.checklist.staff', href: '/index.php?view=users' },
    { name: 'discord', done: states.discord?.state === 'ready', label: 'admin.checklist.discord', href: '#integration-discord' },
    { name: 'gameToken', done: (states.gameApi?.state ?? 'off') !== 'off', label: 'admin.checklist.gameToken', href: '#integration-gameApi' },
  ];
  return items.every((i) => i.done) ? undefined : items;
}
