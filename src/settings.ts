// Settings an admin changes on the dashboard (view=admin), kept in the settings table with the
// seed's texts as defaults.
import type { Db } from './db/index.js';
import { saveSetting, setting } from './db/settings.js';

/** Seed 002 § Player Messages, word for word. `{message}` is the player's text. */
export const DEFAULT_WHISPER_TEMPLATES = {
  request: '[RagnaSync Ticket]: {message}',
  pmCreated: 'Ticket Created on Discord. PM @Support to use',
  offline: 'RagnaSync: Ticket Offline, Try again',
  disabled: 'RagnaSync Ticket Support Disabled',
} as const;
export type WhisperTemplateName = keyof typeof DEFAULT_WHISPER_TEMPLATES;
export type WhisperTemplates = Record<WhisperTemplateName, string>;

export function whisperTemplates(db: Db): WhisperTemplates {
  return { ...DEFAULT_WHISPER_TEMPLATES, ...(setting<Partial<WhisperTemplates>>(db, 'game.whisper_templates') ?? {}) };
}

export function saveWhisperTemplates(db: Db, templates: WhisperTemplates): void {
  saveSetting(db, 'game.whisper_templates', templates);
}

/** Seed 000 § Notifications: "Email/Telegram may be used if enabled by administrator." Off until then. */
export interface NotificationSwitches {
  email: boolean;
  telegram: boolean;
}

export function notificationSwitches(db: Db): NotificationSwitches {
  return { email: false, telegram: false, ...(setting<Partial<NotificationSwitches>>(db, 'notifications.enabled') ?? {}) };
}

export function saveNotificationSwitches(db: Db, switches: NotificationSwitches): void {
  saveSetting(db, 'notifications.enabled', switches);
}
