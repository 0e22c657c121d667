// Structured JSON logs (pino) at LOG_LEVEL. Secrets are redacted by key wherever they appear,
// and request logs never include bodies, cookies or the Authorization header.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'sessionSecret',
  '*.sessionSecret',
  'apiToken',
  '*.apiToken',
  'botToken',
  '*.botToken',
  'smtpUrl',
  '*.smtpUrl',
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'ticketbridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
