// Logs for people and machines (issue #17): one readable line per event or JSON lines, and secrets
// redacted in both, by key and by value (a token inside an error's message or stack).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { secretValues } from '../../src/redact.js';
import { tempDir } from '../helpers/app.js';

const TOKEN = '123456:telegram-secret-ABCDEFGHIJKLMNOP';
const GAME_TOKEN = 'game-token-9f8e7d6c5b4a';

function secrets(): string[] {
  const result = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, GAME_API_TOKEN: GAME_TOKEN }, tempDir());
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return secretValues(result.config);
}

function capture(format: 'pretty' | 'json') {
  const chunks: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void chunks.push(line) }, { format, secrets: secrets(), colorize: false });
  return { logger, text: () => chunks.join('') };
}

/** What a failed Bot API call looked like before the redactor (README "Secrets in error text"). */
const leakyError = () => new Error(`invalid json response body at https://api.telegram.org/bot${TOKEN}/sendMessage reason: Unexpected token <`);

describe('LOG_FORMAT=pretty', () => {
  test('one readable line per event: time, level, message, then the fields', () => {
    const { logger, text } = capture('pretty');
    logger.info({ ticketId: 7 }, 'ticket created');
    logger.warn({ err: leakyError() }, 'telegram: cannot reach the Bot API, retrying');
    logger.error('backup failed: disk full');
    const lines = text().split('\n').filter(Boolean);
    assert.equal(lines.length, 3, text());
    assert.match(lines[0]!, /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] INFO: ticket created \{"ticketId":7\}$/);
    assert.match(lines[1]!, /^\[.*\] WARN: telegram: cannot reach the Bot API, retrying \{"err":\{.*"stack":".*\}\}$/);
    assert.match(lines[2]!, /^\[.*\] ERROR: backup failed: disk full$/);
    for (const line of lines) assert.throws(() => JSON.parse(line));
  });

  test('a token in an error is redacted, in the message and in the stack', () => {
    const { logger, text } = capture('pretty');
    logger.warn({ err: leakyError() }, 'telegram: failed');
    logger.error(`sending failed at https://api.telegram.org/bot${TOKEN}/getMe`);
    logger.info({ token: 'key-redacted-value', headers: { authorization: `Bearer ${GAME_TOKEN}` } }, 'by key');
    const out = text();
    assert.ok(!out.includes(TOKEN), out);
    assert.ok(!out.includes(GAME_TOKEN), out);
    assert.ok(!out.includes('key-redacted-value'), out);
    assert.match(out, /bot\[redacted\]\/sendMessage/);
    assert.match(out, /bot\[redacted\]\/getMe/);
  });
});

describe('LOG_FORMAT=json', () => {
  test('JSON lines with level and time, the same secrets redacted', () => {
    const { logger, text } = capture('json');
    logger.warn({ err: leakyError() }, 'telegram: failed');
    logger.info({ token: 'key-redacted-value' }, `at bot${TOKEN}`);
    const lines = text().split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!) as { level: string; time: string; msg: string; err: { message: string } };
    assert.equal(first.level, 'warn');
    assert.ok(first.time);
    assert.match(first.err.message, /bot\[redacted\]\/sendMessage/);
    assert.ok(!text().includes(TOKEN));
    assert.ok(!text().includes('key-redacted-value'));
  });

  test('a destination given without a format gets JSON (tests, pipes)', () => {
    const chunks: string[] = [];
    createLogger('info', { write: (line: string) => void chunks.push(line) }).info('hello');
    assert.equal((JSON.parse(chunks.join('')) as { msg: string }).msg, 'hello');
  });
});
