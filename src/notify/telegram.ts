// Telegram through telegraf (TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT): sends notifications, and
// answers `/start <code>` deep links (https://t.me/<bot>?start=<code>) that link a player's chat,
// by long polling.
import { Telegraf } from 'telegraf';
import { linkTelegramChat } from '../accounts.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { userByUsername } from '../db/users.js';
import { translator } from '../i18n/index.js';
import type { DeliveryRecord } from '../integrations.js';
import type { Logger } from '../log.js';
import { createRedactor, errorText } from '../redact.js';
import { PermanentSendError } from './worker.js';
import { recipientLocale, telegramText } from './templates.js';

const SEND_TIMEOUT_MS = 15_000;
type TelegrafSignal = NonNullable<Parameters<Telegraf['telegram']['callApi']>[2]>['signal'];

// The link codes belong to the account (src/accounts.ts); the bot only answers them.
export { createTelegramLinkCode, linkTelegramChat, tokenHash } from '../accounts.js';

export interface TelegramService {
  start(): void;
  stop(): Promise<void>;
  send(chatId: string, html: string): Promise<void>;
  /** The bot's @username once known (for the deep link). */
  botUsername(): string | undefined;
}

/** `record`: getMe at start counts as a contact with the Bot API, in the integration's state. */
export function createTelegramService(options: { db: Db; config: Config; logger: Logger; record?: DeliveryRecord }): TelegramService {
  const { db, config, logger } = options;
  const bot = new Telegraf(config.telegram.botToken!, { telegram: { apiRoot: config.telegram.apiRoot } });
  // telegraf's errors can hold the request URL, token included (src/redact.ts).
  const redact = createRedactor(config);
  let username: string | undefined;
  let running = false;

  // The bot answers in the linked account's language; before the link, in the Telegram user's own
  // (`language_code`), else DEFAULT_LOCALE.
  const i18nFor = (user: { locale: string | null; seenLocale: string | null } | undefined, languageCode: string | undefined) =>
    translator(recipientLocale(user, config.defaultLocale, languageCode), config.timeZone);

  bot.start(async (ctx) => {
    const code = ctx.payload.trim();
    const languageCode = ctx.from?.language_code;
    if (!code) {
      await ctx.reply(telegramText(i18nFor(undefined, languageCode), 'telegram.start.noCode'), { parse_mode: 'HTML' });
      return;
    }
    const linked = linkTelegramChat(db, code, String(ctx.chat.id));
    const i18n = i18nFor(linked === undefined ? undefined : userByUsername(db, linked), languageCode);
    await ctx.reply(linked ? telegramText(i18n, 'telegram.start.linked', {}, { name: linked }) : telegramText(i18n, 'telegram.start.invalid'), { parse_mode: 'HTML' });
  });
  bot.catch((err) => logger.warn({ err: errorText(err, redact) }, 'telegram: update handling failed'));

  return {
    start() {
      running = true;
      void (async () => {
        // Keep trying: a Telegram outage at start must not leave linking off for good.
        for (let attempt = 0; running; attempt += 1) {
          try {
            const me = await bot.telegram.getMe();
            username = me.username;
            options.record?.success();
            logger.info({ bot: username }, 'telegram: on');
            await bot.launch({ dropPendingUpdates: false });
            return;
          } catch (err) {
            if (!running) return;
            options.record?.failure(errorText(err, redact));
            logger.warn({ err: errorText(err, redact), attempt }, 'telegram: cannot reach the Bot API, retrying');
            await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** attempt, 60_000)));
          }
        }
      })();
    },
    async stop() {
      running = false;
      try {
        bot.stop('shutdown');
      } catch {
        // not launched
      }
    },
    async send(chatId, html) {
      try {
        // telegraf waits up to 500 s by default; a hung Bot API must not hold the delivery loop.
        await bot.telegram.callApi(
          'sendMessage',
          { chat_id: chatId, text: html, parse_mode: 'HTML', link_preview_options: { is_disabled: true } },
          // telegraf types its signal with the abort-controller package; Node's is the same at run time.
          { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) as unknown as TelegrafSignal },
        );
      } catch (err) {
        const code = (err as { code?: number; response?: { error_code?: number } }).response?.error_code;
        // 400 (bad chat) and 403 (the player blocked the bot) do not heal by themselves.
        if (code === 400 || code === 403) throw new PermanentSendError(`Telegram ${code}: ${errorText(err, redact)}`);
        throw err;
      }
    },
    botUsername: () => username,
  };
}
