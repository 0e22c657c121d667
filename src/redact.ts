// Secrets out of error text. The logger redacts secrets by key (src/log.ts), but an error's message
// is free text, and some carry a secret inside: telegraf/node-fetch answer a non-JSON reply with
// "invalid json response body at https://api.telegram.org/bot<token>/sendMessage ...". Every error
// string that is logged or stored (notification_outbox.last_error, discord_outbox.last_error)
// passes through a redactor made from the configured secrets first.
import type { Config, VARIABLES } from './config.js';

export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';

/** Shorter values are too weak to matter and would shred ordinary words. */
const MIN_SECRET_LENGTH = 4;

type SecretVariable = { [K in keyof typeof VARIABLES]: (typeof VARIABLES)[K] extends { secret: true } ? K : never }[keyof typeof VARIABLES];

/** Where each variable with `secret: true` in src/config.ts ends up (the compiler wants every one). */
const SECRET_VALUES: Record<SecretVariable, (config: Config) => string | undefined> = {
  SESSION_SECRET: (config) => config.sessionSecret,
  GAME_API_TOKEN: (config) => config.game.apiToken,
  DISCORD_TOKEN: (config) => config.discord.token,
  TELEGRAM_BOT_TOKEN: (config) => config.telegram.botToken,
  SMTP_URL: (config) => config.mail.smtpUrl,
  METRICS_TOKEN: (config) => config.metricsToken,
};

/** A value as it may show up in text: as is, URL-encoded, and for a URL its password part. */
function forms(value: string): string[] {
  const out = [value, encodeURIComponent(value), encodeURI(value)];
  try {
    const password = new URL(value).password;
    if (password) out.push(password, decodeURIComponent(password), encodeURIComponent(decodeURIComponent(password)));
  } catch {
    // not a URL
  }
  return out;
}

/** The texts to hide for the secrets that are set in `config`, longest first. */
export function secretValues(config: Config): string[] {
  const values = Object.values(SECRET_VALUES)
    .map((read) => read(config))
    .filter((value): value is string => value !== undefined)
    .flatMap(forms)
    .filter((value) => value.length >= MIN_SECRET_LENGTH);
  // Longest first: an SMTP URL goes as a whole before its password part is looked for.
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

export function redactSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.replaceAll(secret, REDACTED), text);
}

export function createRedactor(config: Config): Redactor {
  const secrets = secretValues(config);
  return (text) => redactSecrets(text, secrets);
}

/** An error's message, redacted: what goes into a log line or a last_error column. */
export function errorText(err: unknown, redact: Redactor): string {
  return redact((err instanceof Error ? err.message : '') || String(err));
}
