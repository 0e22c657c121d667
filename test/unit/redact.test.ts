// src/redact.ts: every configured secret, in the forms it shows up in, out of error text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig, SECRET_VARIABLES } from '../../src/config.js';
import { createRedactor, errorText, secretValues } from '../../src/redact.js';
import { tempDir } from '../helpers/app.js';

const ENV = {
  SESSION_SECRET: 'session-secret-session-secret-0123456789',
  GAME_API_TOKEN: 'game-api-token-0123456789',
  DISCORD_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.discord-token-part-0123',
  DISCORD_GUILD_ID: '123456789012345678',
  TELEGRAM_BOT_TOKEN: '7000000001:AAFakeTelegramToken_abcdefghijklmnopq',
  SMTP_URL: 'smtps://mailer:p%40ss%2Fw0rd@mail.example.org:465',
};

function configWith(env: Record<string, string>) {
  const result = loadConfig({ TZ: 'UTC', ...env }, tempDir());
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

describe('createRedactor', () => {
  test('every secret variable that is set, as is and URL-encoded; the SMTP password also decoded', () => {
    const redact = createRedactor(configWith(ENV));
    assert.equal(
      redact(`GET https://api.telegram.org/bot${ENV.TELEGRAM_BOT_TOKEN}/sendMessage and /bot${encodeURIComponent(ENV.TELEGRAM_BOT_TOKEN)}/getMe`),
      'GET https://api.telegram.org/bot[redacted]/sendMessage and /bot[redacted]/getMe',
    );
    assert.equal(redact(`connect ${ENV.SMTP_URL} failed`), 'connect [redacted] failed');
    assert.equal(redact('auth mailer p@ss/w0rd refused; p%40ss%2Fw0rd'), 'auth mailer [redacted] refused; [redacted]');
    assert.equal(redact(`${ENV.DISCORD_TOKEN} ${ENV.GAME_API_TOKEN} ${ENV.SESSION_SECRET}`), '[redacted] [redacted] [redacted]');
    assert.equal(redact('nothing secret here'), 'nothing secret here');
  });

  test('one reader per secret variable of src/config.ts; unset ones hide nothing', () => {
    assert.deepEqual([...SECRET_VARIABLES].sort(), ['DISCORD_TOKEN', 'GAME_API_TOKEN', 'METRICS_TOKEN', 'SESSION_SECRET', 'SMTP_URL', 'TELEGRAM_BOT_TOKEN']);
    assert.deepEqual(secretValues(configWith({})), []);
    assert.deepEqual(secretValues(configWith({ SMTP_URL: 'smtp://u:abc@mail.example.org' })), ['smtp%3A%2F%2Fu%3Aabc%40mail.example.org', 'smtp://u:abc@mail.example.org'], 'longest first; a 3-character password is not hunted for');
  });

  test('errorText: the message of an error, redacted; anything else as text', () => {
    const redact = createRedactor(configWith(ENV));
    assert.equal(errorText(new Error(`at /bot${ENV.TELEGRAM_BOT_TOKEN}/x`), redact), 'at /bot[redacted]/x');
    assert.equal(errorText(`raw ${ENV.GAME_API_TOKEN}`, redact), 'raw [redacted]');
  });
});
