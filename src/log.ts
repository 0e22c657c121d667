// Logs (pino) at LOG_LEVEL, as JSON lines for machines or as one readable line per event for a
// person at a terminal (LOG_FORMAT; by default readable when stdout is a terminal). Secrets are
// redacted twice: by key wherever they appear (the paths below), and, when the configured secret
// values are given, by value in the finished line, so a token inside an error's message or stack is
// hidden too, in both formats (the readable line is made from the already redacted JSON line).
import { pino, type DestinationStream, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './config.js';
import { redactSecrets } from './redact.js';

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

export interface LoggerOptions {
  /** pretty or json; by default pretty when standard output is a terminal (and no destination is given). */
  format?: LogFormat;
  /** Secret values (src/redact.ts `secretValues`) to hide wherever they show up in a line. */
  secrets?: readonly string[];
  /** Colours in pretty lines; by default when standard output is a terminal. */
  colorize?: boolean;
}

/** Each secret as it reads inside a JSON string too (a quote or backslash in it is escaped there). */
function jsonForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** One line per event: time, level, message, then the other fields as compact JSON on the same line. */
function prettyLines(colorize: boolean): (jsonLine: string) => string {
  return PinoPretty.prettyFactory({
    colorize,
    singleLine: true,
    // An error's stack stays inside the one-line JSON of the fields instead of spreading over lines.
    errorLikeObjectKeys: [],
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'app,pid,hostname',
  });
}

export function createLogger(level: LogLevel, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  const terminal = destination === undefined && process.stdout.isTTY === true;
  const format = options.format ?? (terminal ? 'pretty' : 'json');
  const secrets = jsonForms(options.secrets ?? []);
  const pretty = format === 'pretty' ? prettyLines(options.colorize ?? terminal) : undefined;
  const stream: DestinationStream =
    secrets.length === 0 && !pretty
      ? out
      : {
          write(line: string) {
            const clean = secrets.length > 0 ? redactSecrets(line, secrets) : line;
            out.write(pretty ? pretty(clean) : clean);
          },
        };
  return pino(
    {
      level,
      base: { app: 'ticketbridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
