// Settings an admin changes on the dashboard (view=admin), kept in the settings table with the
// seed's texts as defaults.
import { z } from 'zod';
import type { Db } from './db/index.js';
import { reportBadSettingsTo, saveSetting, setting } from './db/settings.js';
import type { Logger } from './log.js';

/**
 * Stored settings that do not fit their schema are logged (key and problem, never the value) and
 * their defaults apply, rather than the pages that read them failing.
 */
export function logBadSettings(db: Db, logger: Logger): void {
  reportBadSettingsTo(db, (key, problem) => logger.warn({ setting: key, problem }, 'a stored setting does not fit; its default applies'));
}

/** Seed 002 § Player Messages, word for word. `{message}` is the player's text. */
export const DEFAULT_WHISPER_TEMPLATES = {
  request: '[RagnaSync Ticket]: {message}',
  pmCreated: 'Ticket Created on Discord. PM @Support to use',
  offline: 'RagnaSync: Ticket Offline, Try again',
  disabled: 'RagnaSync Ticket Support Disabled',
} as const;
export type WhisperTemplateName = keyof typeof DEFAULT_WHISPER_TEMPLATES;
export type WhisperTemplates = Record<WhisperTemplateName, string>;

const whisperTemplatesSchema = z
  .object({ request: z.string(), pmCreated: z.string(), offline: z.string(), disabled: z.string() } satisfies Record<WhisperTemplateName, z.ZodString>)
  .partial();

/** The texts as the admin stored them (a name not stored is not in it). */
export function storedWhisperTemplates(db: Db): Partial<WhisperTemplates> {
  return setting(db, 'game.whisper_templates', whisperTemplatesSchema) ?? {};
}

/** The texts in force without a player's language: the admin's, else seed 002's. */
export function whisperTemplates(db: Db): WhisperTemplates {
  return { ...DEFAULT_WHISPER_TEMPLATES, ...storedWhisperTemplates(db) };
}

/**
 * Whether the admin changed a text: one stored and different from seed 002's English. An
 * overridden text is whispered as written whatever the player's language; one not stored, or
 * stored as the seed's words, is whispered in the player's language (issue #16).
 */
export function isWhisperOverride(name: WhisperTemplateName, stored: string | undefined): stored is string {
  return stored !== undefined && stored !== DEFAULT_WHISPER_TEMPLATES[name];
}

/** For the admin page: which of the four texts are the admin's own (true) and which follow the player's language (false). */
export function whisperOverrides(db: Db): Record<WhisperTemplateName, boolean> {
  const stored = storedWhisperTemplates(db);
  return {
    request: isWhisperOverride('request', stored.request),
    pmCreated: isWhisperOverride('pmCreated', stored.pmCreated),
    offline: isWhisperOverride('offline', stored.offline),
    disabled: isWhisperOverride('disabled', stored.disabled),
  };
}

export function saveWhisperTemplates(db: Db, templates: WhisperTemplates): void {
  saveSetting(db, 'game.whisper_templates', templates);
}

/**
 * The whisper texts an admin wrote on the admin page. A text not there (or equal to seed 002's
 * English, as earlier versions stored every text) is the default, which follows the player's language.
 */
export function adminWhisperTexts(db: Db): Partial<WhisperTemplates> {
  const stored = storedWhisperTemplates(db);
  const overrides: Partial<WhisperTemplates> = {};
  for (const name of Object.keys(DEFAULT_WHISPER_TEMPLATES) as WhisperTemplateName[]) {
    const text = stored[name];
    if (text && isWhisperOverride(name, text)) overrides[name] = text;
  }
  return overrides;
}

/** Keeps only the texts an admin wrote; the others are the defaults again. */
export function saveWhisperOverrides(db: Db, overrides: Partial<WhisperTemplates>): void {
  saveSetting(db, 'game.whisper_templates', overrides);
}

/** Seed 000 § Notifications: "Email/Telegram may be used if enabled by administrator." Off until then. */
export interface NotificationSwitches {
  email: boolean;
  telegram: boolean;
}

const notificationSwitchesSchema = z.object({ email: z.boolean(), telegram: z.boolean() }).partial();

export function notificationSwitches(db: Db): NotificationSwitches {
  return { email: false, telegram: false, ...setting(db, 'notifications.enabled', notificationSwitchesSchema) };
}

export function saveNotificationSwitches(db: Db, switches: NotificationSwitches): void {
  saveSetting(db, 'notifications.enabled', switches);
}

/** Issue #18: tickets waiting on the player close after this many days (0: never); reminded at half. */
export const DEFAULT_STALE_DAYS = 7;
export const STALE_DAYS_MAX = 365;
const staleDaysSchema = z.number().int().min(0).max(STALE_DAYS_MAX);

export function staleDays(db: Db): number {
  return setting(db, 'tickets.stale_days', staleDaysSchema) ?? DEFAULT_STALE_DAYS;
}

export function saveStaleDays(db: Db, days: number): void {
  saveSetting(db, 'tickets.stale_days', staleDaysSchema.parse(days));
}

/**
 * The extra whisper a game ticket's player gets when the ticket is closed (issue #18: a line
 * pointing to the dashboard, to rate it, say). Written by an admin on view=admin and whispered as
 * written, whatever the player's language; empty (not stored) means no whisper. `lines` is the
 * text as the game's code page carries it, split to GAME_WHISPER_MAX bytes when it was saved.
 */
const closeWhisperSchema = z.object({ text: z.string(), lines: z.array(z.string()) });
export type CloseWhisper = z.infer<typeof closeWhisperSchema>;

export function closeWhisper(db: Db): CloseWhisper | undefined {
  const stored = setting(db, 'game.close_whisper', closeWhisperSchema);
  return stored && stored.text !== '' && stored.lines.length > 0 ? stored : undefined;
}

export function saveCloseWhisper(db: Db, value: CloseWhisper | undefined): void {
  saveSetting(db, 'game.close_whisper', value ?? { text: '', lines: [] });
}
