// Every setting of ticketbridge, in one table (README.md "Configuration"). Each variable has one zod
// schema over its text, a default, and a secret flag so its value is never echoed back or logged.
// `.env.example` is the same table for humans; test/unit/config.test.ts keeps the two in step.
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfFileError, confBoolean, readConfFile } from './confFile.js';
import iconv from 'iconv-lite';
import { LOCALES, supportedLocale } from './i18n/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A Discord id (a snowflake), as the Discord variables below and stored Discord ids are checked. */
export const SNOWFLAKE = /^\d{17,20}$/;
const snowflake = z.string().regex(SNOWFLAKE, 'must be a Discord id (17 to 20 digits)');

function int(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`);
}

function httpUrl(what: string) {
  return z
    .string()
    .refine((text) => {
      try {
        const url = new URL(text);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    }, `must be an http(s) URL${what}`)
    .transform((text) => text.replace(/\/+$/, ''));
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function systemTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isTimeZone(zone) ? zone : 'UTC';
}

interface VariableSpec {
  schema: z.ZodType;
  /** Text default; undefined means "unset" (the feature is off or derived). */
  fallback?: string | (() => string);
  secret?: boolean;
}

/** The table: every environment variable the app reads. */
export const VARIABLES = {
  PORT: { schema: int(0, 65535), fallback: '3000' },
  HOST: { schema: z.string().min(1), fallback: '127.0.0.1' },
  APP_URL: { schema: httpUrl(' such as https://support.example.org') },
  DATABASE_PATH: { schema: z.string().min(1), fallback: 'data/app.db' },
  UPLOADS_DIR: { schema: z.string().min(1), fallback: 'uploads' },
  SESSION_SECRET: { schema: z.string().min(32, 'must be at least 32 characters long'), secret: true },
  TZ: {
    schema: z.string().refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Berlin'),
    fallback: systemTimeZone,
  },
  DEFAULT_LOCALE: {
    schema: z
      .string()
      .transform((tag) => supportedLocale(tag) ?? tag)
      .refine((tag) => LOCALES.includes(tag), `must be one of the languages in locales/: ${LOCALES.join(', ')}`),
    fallback: 'en',
  },
  GAME_API_TOKEN: { schema: z.string().min(16, 'must be at least 16 characters long'), secret: true },
  CHANNELS_CONF: { schema: z.string().min(1), fallback: 'conf/channels.conf' },
  DISCORD_TOKEN: { schema: z.string().min(20, 'does not look like a bot token'), secret: true },
  DISCORD_GUILD_ID: { schema: snowflake },
  DISCORD_API_URL: { schema: httpUrl('') },
  DISCORD_TICKET_CATEGORY_ID: { schema: snowflake },
  DISCORD_STAFF_ROLE_IDS: {
    schema: z
      .string()
      .transform((text) => text.split(',').map((part) => part.trim()).filter(Boolean))
      .refine((ids) => ids.every((id) => SNOWFLAKE.test(id)), 'must be Discord role ids separated by commas'),
  },
  DISCORD_LOG_CHANNEL_ID: { schema: snowflake },
  // A staff message in a ticket channel that starts with this is an internal note, never whispered.
  DISCORD_NOTE_PREFIX: { schema: z.string().min(1).max(20, 'must be at most 20 characters'), fallback: '//' },
  TELEGRAM_BOT_TOKEN: {
    schema: z.string().regex(/^\d+:[\w-]{20,}$/, 'does not look like a Telegram bot token (123456:ABC...)'),
    secret: true,
  },
  TELEGRAM_API_ROOT: { schema: httpUrl(''), fallback: 'https://api.telegram.org' },
  SMTP_URL: {
    schema: z.string().refine((text) => {
      try {
        return ['smtp:', 'smtps:'].includes(new URL(text).protocol);
      } catch {
        return false;
      }
    }, 'must be an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.org:587'),
    secret: true,
  },
  MAIL_FROM: { schema: z.string().regex(/^(?:[^<>]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/, 'must be an address such as "Support <support@example.org>"') },
  UPLOAD_MAX_BYTES: { schema: int(1, 1024 * 1024 * 1024), fallback: String(10 * 1024 * 1024) },
  UPLOAD_MAX_FILES: { schema: int(0, 100), fallback: '5' },
  // Bytes in GAME_TEXT_ENCODING: a chat line is 255 bytes with its terminating NUL (CHAT_SIZE_MAX).
  GAME_WHISPER_MAX: { schema: int(20, 254), fallback: '200' },
  GAME_TEXT_ENCODING: {
    schema: z
      .string()
      .transform((name) => name.toLowerCase())
      .refine((name) => iconv.encodingExists(name), 'must be a code page iconv-lite knows, such as utf-8, cp1252, cp1250, cp1251, cp1254, cp874, gbk, big5, euc-kr or shift_jis'),
    fallback: 'utf-8',
  },
  GAME_TICKETS_WITHOUT_DISCORD: { schema: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'), fallback: 'false' },
  // true: a web ticket also gets a private Discord channel (README.md "Discord"); needs the bridge.
  DISCORD_WEB_TICKETS: { schema: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'), fallback: 'false' },
  GAME_WHISPER_VISIBILITY_S: { schema: int(1, 3600), fallback: '30' },
  // GET /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset, it does not exist (404).
  METRICS_TOKEN: { schema: z.string().min(16, 'must be at least 16 characters long'), secret: true },
  LOG_LEVEL: {
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
    fallback: 'info',
  },
  // Unset: readable lines when stdout is a terminal, JSON lines otherwise.
  LOG_FORMAT: { schema: z.enum(LOG_FORMATS, { error: `must be ${LOG_FORMATS.join(' or ')}` }) },
  // Unset: no scheduled backups (README.md "Backups").
  BACKUP_DIR: { schema: z.string().min(1) },
  BACKUP_INTERVAL_HOURS: {
    schema: z
      .string()
      .regex(/^\d+(?:\.\d+)?$/, 'must be a number of hours from 0.01 to 8760, such as 24 or 0.5')
      .transform(Number)
      .refine((n) => n >= 0.01 && n <= 8760, 'must be a number of hours from 0.01 to 8760, such as 24 or 0.5'),
    fallback: '24',
  },
  BACKUP_KEEP: { schema: int(1, 1000), fallback: '7' },
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;
type Parsed = { [K in VariableName]: z.output<(typeof VARIABLES)[K]['schema']> | undefined };

export interface Config {
  port: number;
  host: string;
  appUrl: string;
  databasePath: string;
  uploadsDir: string;
  /** Unset: a random secret is generated once and kept in the database's settings. */
  sessionSecret: string | undefined;
  timeZone: string;
  /** DEFAULT_LOCALE: the language of a visitor whose browser asks for none we have, and of notifications to accounts never seen. */
  defaultLocale: string;
  logLevel: LogLevel;
  /** METRICS_TOKEN: GET /metrics needs it as a bearer token; unset, /metrics is off (404). */
  metricsToken: string | undefined;
  /** LOG_FORMAT; undefined: pretty on a terminal, JSON otherwise. */
  logFormat: LogFormat | undefined;
  /** Scheduled backup archives (src/backup.ts); `dir` undefined: off. */
  backup: { dir: string | undefined; intervalHours: number; keep: number };
  uploads: { maxBytes: number; maxFiles: number };
  game: {
    apiToken: string | undefined;
    /** Longest whisper line, in bytes of `textEncoding`. */
    whisperMax: number;
    /** The game client's code page (GAME_TEXT_ENCODING): whispers are made to fit it, bracket bodies read in it. */
    textEncoding: string;
    /** GAME_TICKETS_WITHOUT_DISCORD: with no Discord configured, game tickets are answered from the console. */
    ticketsWithoutDiscord: boolean;
    whisperVisibilitySeconds: number;
    channelsConfPath: string;
    /** ragnasync_ticket_support_system_enabled (seed 002), default true. */
    ticketSupportEnabled: boolean;
    /** ragnasync_ticket_support_system_close_on_logout: default for new guild rows. */
    closeOnLogoutDefault: boolean;
  };
  discord: {
    token: string | undefined;
    guildId: string | undefined;
    apiUrl: string | undefined;
    ticketCategoryId: string | undefined;
    staffRoleIds: string[];
    logChannelId: string | undefined;
    /** DISCORD_NOTE_PREFIX: a staff message starting with it is an internal note. */
    notePrefix: string;
    /** DISCORD_WEB_TICKETS: web tickets get a private channel too (only with the bridge configured). */
    webTickets: boolean;
  };
  telegram: { botToken: string | undefined; apiRoot: string };
  mail: { smtpUrl: string | undefined; from: string };
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * Reads the environment (a `.env` file in `cwd` fills in what the real environment lacks) and
 * the channels conf. Never throws for bad input: it returns one line per problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ConfigResult {
  const merged = { ...readDotEnv(cwd), ...env };
  const errors: string[] = [];
  const values: Partial<Record<VariableName, unknown>> = {};

  for (const [name, spec] of Object.entries(VARIABLES) as [VariableName, VariableSpec][]) {
    // An empty value (`SMTP_URL=` copied from .env.example) means "not set".
    const raw = merged[name]?.trim() || undefined;
    const text = raw ?? (typeof spec.fallback === 'function' ? spec.fallback() : spec.fallback);
    if (text === undefined) continue;
    const result = spec.schema.safeParse(text);
    if (result.success) {
      values[name] = result.data;
    } else {
      const reason = result.error.issues[0]?.message ?? 'is not valid';
      const shown = spec.secret ? '' : ` (got ${JSON.stringify(text)})`;
      errors.push(`${name} ${reason}${shown}`);
    }
  }
  const v = values as Parsed;

  if (v.DISCORD_TOKEN && !v.DISCORD_GUILD_ID && !errors.some((e) => e.startsWith('DISCORD_GUILD_ID'))) {
    errors.push('DISCORD_GUILD_ID must be set when DISCORD_TOKEN is set (the bridge serves one guild)');
  }
  if (v.DISCORD_GUILD_ID && !v.DISCORD_TOKEN && !errors.some((e) => e.startsWith('DISCORD_TOKEN'))) {
    errors.push('DISCORD_TOKEN must be set when DISCORD_GUILD_ID is set');
  }

  if (v.DISCORD_WEB_TICKETS && !(v.DISCORD_TOKEN && v.DISCORD_GUILD_ID)) {
    errors.push('DISCORD_WEB_TICKETS=true needs the Discord bridge: set DISCORD_TOKEN and DISCORD_GUILD_ID, or set DISCORD_WEB_TICKETS=false');
  }

  let ticketSupportEnabled = true;
  let closeOnLogoutDefault = true;
  const channelsConfPath = path.resolve(cwd, v.CHANNELS_CONF ?? 'conf/channels.conf');
  try {
    const conf = readConfFile(channelsConfPath);
    ticketSupportEnabled = confBoolean(conf, 'ragnasync_ticket_support_system_enabled', true);
    closeOnLogoutDefault = confBoolean(conf, 'ragnasync_ticket_support_system_close_on_logout', true);
  } catch (err) {
    if (!(err instanceof ConfFileError)) throw err;
    errors.push(`CHANNELS_CONF ${err.message}`);
  }

  if (errors.length > 0) return { ok: false, errors };

  const port = v.PORT ?? 3000;
  const appUrl = v.APP_URL ?? `http://localhost:${port}`;
  return {
    ok: true,
    config: {
      port,
      host: v.HOST ?? '127.0.0.1',
      appUrl,
      databasePath: path.resolve(cwd, v.DATABASE_PATH ?? 'data/app.db'),
      uploadsDir: path.resolve(cwd, v.UPLOADS_DIR ?? 'uploads'),
      sessionSecret: v.SESSION_SECRET,
      timeZone: v.TZ ?? 'UTC',
      defaultLocale: v.DEFAULT_LOCALE ?? 'en',
      logLevel: v.LOG_LEVEL ?? 'info',
      metricsToken: v.METRICS_TOKEN,
      logFormat: v.LOG_FORMAT,
      backup: {
        dir: v.BACKUP_DIR === undefined ? undefined : path.resolve(cwd, v.BACKUP_DIR),
        intervalHours: v.BACKUP_INTERVAL_HOURS ?? 24,
        keep: v.BACKUP_KEEP ?? 7,
      },
      uploads: { maxBytes: v.UPLOAD_MAX_BYTES ?? 10 * 1024 * 1024, maxFiles: v.UPLOAD_MAX_FILES ?? 5 },
      game: {
        apiToken: v.GAME_API_TOKEN,
        whisperMax: v.GAME_WHISPER_MAX ?? 200,
        textEncoding: v.GAME_TEXT_ENCODING ?? 'utf-8',
        ticketsWithoutDiscord: v.GAME_TICKETS_WITHOUT_DISCORD ?? false,
        whisperVisibilitySeconds: v.GAME_WHISPER_VISIBILITY_S ?? 30,
        channelsConfPath,
        ticketSupportEnabled,
        closeOnLogoutDefault,
      },
      discord: {
        token: v.DISCORD_TOKEN,
        guildId: v.DISCORD_GUILD_ID,
        apiUrl: v.DISCORD_API_URL,
        ticketCategoryId: v.DISCORD_TICKET_CATEGORY_ID,
        staffRoleIds: v.DISCORD_STAFF_ROLE_IDS ?? [],
        logChannelId: v.DISCORD_LOG_CHANNEL_ID,
        notePrefix: v.DISCORD_NOTE_PREFIX ?? '//',
        webTickets: v.DISCORD_WEB_TICKETS ?? false,
      },
      telegram: { botToken: v.TELEGRAM_BOT_TOKEN, apiRoot: v.TELEGRAM_API_ROOT ?? 'https://api.telegram.org' },
      mail: { smtpUrl: v.SMTP_URL, from: v.MAIL_FROM ?? `ticketbridge <noreply@${new URL(appUrl).hostname}>` },
    },
  };
}

function readDotEnv(cwd: string): Record<string, string> {
  const file = path.join(cwd, '.env');
  if (!fs.existsSync(file)) return {};
  return parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>;
}

/** The names of the variables whose values must never be logged. */
export const SECRET_VARIABLES = Object.entries(VARIABLES as Record<string, VariableSpec>)
  .filter(([, spec]) => spec.secret)
  .map(([name]) => name);
