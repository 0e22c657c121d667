// Email through nodemailer (SMTP_URL, MAIL_FROM). Timeouts are short enough that a dead server
// fails the attempt (and the outbox retries later) instead of holding a delivery loop for minutes.
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import { PermanentSendError, type EmailMessage } from './worker.js';

export function createEmailSender(config: Config, timeoutMs = 10_000): { send: (message: EmailMessage) => Promise<void>; close: () => void } {
  const transport = nodemailer.createTransport({ url: config.mail.smtpUrl!, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs * 3 });
  return {
    async send(message) {
      try {
        await transport.sendMail({
          from: config.mail.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId: message.messageId,
          headers: message.headers,
        });
      } catch (err) {
        // 5xx answers (mailbox unknown, address refused) will not get better by retrying.
        const code = (err as { responseCode?: number }).responseCode;
        if (typeof code === 'number' && code >= 500 && code < 600) throw new PermanentSendError(`SMTP ${code}: ${(err as Error).message}`);
        throw err;
      }
    },
    close: () => transport.close(),
  };
}
