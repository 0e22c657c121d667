// Email and Telegram for `npm run cli -- doctor`: can the SMTP server be reached and does it
// greet us (connect + EHLO, and the login when SMTP_URL has one), and does the Bot API know the
// token (getMe). Each answer is undefined (fine) or one sentence with the fix, without secrets.
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import { createRedactor, errorText } from '../redact.js';
import type { Senders } from './worker.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ESOCKET', 'ECONNECTION']);

/** Undefined when the SMTP server answered EHLO (and accepted the login in SMTP_URL, if any). */
export async function checkSmtp(config: Config, timeoutMs = 5_000): Promise<string | undefined> {
  const url = new URL(config.mail.smtpUrl!);
  const where = `${url.hostname}:${url.port || (url.protocol === 'smtps:' ? '465' : '587')}`;
  const transport = nodemailer.createTransport({ url: config.mail.smtpUrl!, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  try {
    await transport.verify();
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const text = errorText(err, createRedactor(config));
    if (code === 'EAUTH') return `The SMTP server ${where} refused the user name or password in SMTP_URL (${text}): correct them in SMTP_URL and restart.`;
    if (NETWORK_CODES.has(code) || /ECONNREFUSED|timeout|timed out/i.test(text))
      return `Cannot reach the SMTP server ${where} (${text}): check the host and port in SMTP_URL and that the mail server is running.`;
    return `The SMTP server ${where} did not accept the connection (${text}): check SMTP_URL (smtp:// for STARTTLS on 587, smtps:// for 465).`;
  } finally {
    transport.close();
  }
}

/** The bot's @username, or the problem. */
export async function checkTelegram(config: Config, timeoutMs = 10_000): Promise<{ username?: string; problem?: string }> {
  const redact = createRedactor(config);
  const root = config.telegram.apiRoot;
  try {
    const response = await fetch(`${root}/bot${config.telegram.botToken!}/getMe`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => ({}))) as { ok?: boolean; result?: { username?: string }; description?: string };
    if (response.ok && body.ok) return { ...(body.result?.username ? { username: body.result.username } : {}) };
    if (response.status === 401 || response.status === 404)
      return { problem: 'Telegram does not know TELEGRAM_BOT_TOKEN: copy the token @BotFather gave your bot (send it /token) into TELEGRAM_BOT_TOKEN and restart.' };
    return { problem: `The Telegram Bot API at ${root} answered ${response.status} (${redact(body.description ?? '')}): try again later, or check TELEGRAM_API_ROOT.` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? (cause?.message ? redact(cause.message) : errorText(err, redact));
    return { problem: `Cannot reach the Telegram Bot API at ${root} (${why}): check the server's network, or TELEGRAM_API_ROOT.` };
  }
}

/** A test message for the admin page's "send a test" button, through the same senders as the outbox. */
export async function sendTestNotification(
  senders: Senders,
  channel: 'email' | 'telegram',
  to: string,
  config: Config,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const redact = createRedactor(config);
  const text = `This is a test from ticketbridge at ${config.appUrl}. Notifications can reach you here.`;
  try {
    if (channel === 'email') {
      if (!senders.email) return { ok: false, error: 'email is off: set SMTP_URL (and MAIL_FROM) and restart' };
      const host = new URL(config.appUrl).hostname;
      await senders.email({ to, subject: 'ticketbridge: test message', text, html: `<p>${text}</p>`, headers: {}, messageId: `<test-${Date.now()}@${host}>` });
    } else {
      if (!senders.telegram) return { ok: false, error: 'Telegram is off: set TELEGRAM_BOT_TOKEN and restart' };
      await senders.telegram(to, text);
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, error: errorText(err, redact) };
  }
}
