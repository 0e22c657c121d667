// The fake Telegram Bot API (support/fakes/telegram.ts) driven by the REAL telegraf client: if these pass,
// a notification bot tested against the fake sends, formats, fails and long-polls like it would
// against api.telegram.org.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Markup, Telegraf, TelegramError } from 'telegraf';
import { startFakeTelegram, type FakeTelegram } from '../../support/fakes/telegram.js';

type CallApiOptions = NonNullable<Parameters<Telegraf['telegram']['callApi']>[2]>;

/** MarkdownV2 outside entities: every one of _*[]()~`>#+-=|{}.! and the backslash itself needs a '\'. */
function escapeMarkdownV2(text: string): string {
  return text.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, '\\$&');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function rejectsWithTelegramError(promise: Promise<unknown>): Promise<TelegramError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TelegramError, `expected TelegramError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to be refused');
}

async function rejectsWith(promise: Promise<unknown>): Promise<Error & { code?: string; type?: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('fake Telegram with the real telegraf client', () => {
  let fake: FakeTelegram;
  let bot: Telegraf;
  const playerChat = 5550001;

  before(async () => {
    fake = await startFakeTelegram({ username: 'ticketbridge_bot' });
    bot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
    fake.userSends(playerChat, 'hello', { first_name: 'Alex', username: 'alex_plays' });
  });

  after(async () => {
    await fake.stop();
  });

  afterEach(async () => {
    if (fake.blocked.has(playerChat)) fake.unblockBot(playerChat);
    // Leave no updates behind for the next test's polling.
    if (fake.pendingUpdates.length > 0) {
      await bot.telegram.callApi('getUpdates', { offset: fake.pendingUpdates.at(-1)!.update_id + 1, limit: 1 });
    }
  });

  test('getMe answers with the configured bot; the URL is /bot<token>/<method>', async () => {
    const me = await bot.telegram.getMe();
    assert.equal(me.username, 'ticketbridge_bot');
    assert.equal(me.is_bot, true);
    assert.equal(me.id, fake.botUser.id);
    const request = fake.calls('getMe').at(-1)!;
    assert.equal(request.authorized, true);
    assert.equal(request.testEnv, false);
    assert.equal(request.status, 200);
  });

  test('a wrong token is 401 Unauthorized, an unknown method 404, the test environment path is separate', async () => {
    const impostor = new Telegraf('123456:wrong-token', { telegram: { apiRoot: fake.apiRoot } });
    const unauthorized = await rejectsWithTelegramError(impostor.telegram.getMe());
    assert.equal(unauthorized.code, 401);
    assert.equal(unauthorized.description, 'Unauthorized');
    assert.equal(fake.requests.at(-1)!.authorized, false);

    const unknown = await rejectsWithTelegramError(bot.telegram.callApi('sendTelepathy' as 'getMe', {}));
    assert.equal(unknown.code, 404);
    assert.equal(unknown.description, 'Not Found');

    const testEnvBot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot, testEnv: true } });
    const wrongEnv = await rejectsWithTelegramError(testEnvBot.telegram.getMe());
    assert.equal(wrongEnv.code, 401);
    assert.equal(fake.requests.at(-1)!.testEnv, true, 'telegraf puts /test before the method');
  });

  test('MarkdownV2: escaped text is accepted, an unescaped reserved character is refused like Telegram', async () => {
    const raw = 'Ticket #42 (v1.2) - user_name [admin]! a+b=c {x} |y| ~z~ `q` > back\\slash';
    const text = `*${escapeMarkdownV2('Reply on')}* ${escapeMarkdownV2(raw)}`;
    const message = await bot.telegram.sendMessage(playerChat, text, { parse_mode: 'MarkdownV2' });
    assert.equal(message.text, `Reply on ${raw}`, 'the user sees the text without markup');
    assert.deepEqual(message.entities, [{ type: 'bold', offset: 0, length: 8 }]);
    const stored = fake.sent.at(-1)!;
    assert.equal(stored.chat_id, playerChat);
    assert.equal(stored.text, text);
    assert.equal(stored.parse_mode, 'MarkdownV2');
    assert.equal(stored.plainText, `Reply on ${raw}`);

    const before = fake.sent.length;
    const refused = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'Ticket closed. Thanks!', { parse_mode: 'MarkdownV2' }));
    assert.equal(refused.code, 400);
    assert.equal(refused.description, "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'");
    const dash = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'status - open', { parse_mode: 'MarkdownV2' }));
    assert.match(dash.description, /Character '-' is reserved/);
    const unclosed = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, '*bold', { parse_mode: 'MarkdownV2' }));
    assert.equal(unclosed.description, "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0");
    assert.equal(fake.sent.length, before, 'refused messages are not delivered');

    // Inside `code` only ` and \ are special; a link's URL needs ) and \ escaped.
    const code = await bot.telegram.sendMessage(playerChat, '`a.b-c!` [open](https://support.example.com/t/42?a=(1\\))', { parse_mode: 'MarkdownV2' });
    assert.equal(code.text, 'a.b-c! open');
    assert.deepEqual(code.entities, [
      { type: 'code', offset: 0, length: 6 },
      { type: 'text_link', offset: 7, length: 4, url: 'https://support.example.com/t/42?a=(1)' },
    ]);
  });

  test('HTML: known tags and escaped text pass, unknown or unclosed tags are refused', async () => {
    const name = '<Alex & "friends">';
    const message = await bot.telegram.sendMessage(playerChat, `<b>New reply</b> from ${escapeHtml(name)}: <a href="https://support.example.com/t/42">open</a>`, {
      parse_mode: 'HTML',
    });
    assert.equal(message.text, `New reply from ${name}: open`);
    assert.deepEqual(message.entities, [
      { type: 'bold', offset: 0, length: 9 },
      { type: 'text_link', offset: `New reply from ${name}: `.length, length: 4, url: 'https://support.example.com/t/42' },
    ]);

    const unknownTag = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, `From ${name}`, { parse_mode: 'HTML' }));
    assert.equal(unknownTag.description, 'Bad Request: can\'t parse entities: Unsupported start tag "alex" at byte offset 5');
    const unclosed = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, '<b>New reply', { parse_mode: 'HTML' }));
    assert.equal(unclosed.description, 'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"');
    const br = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'line<br>line', { parse_mode: 'HTML' }));
    assert.match(br.description, /Unsupported start tag "br" at byte offset 4/);
  });

  test('limits: empty text, 4096 characters, unknown chats and blocked users', async () => {
    const empty = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, ''));
    assert.equal(empty.description, 'Bad Request: message text is empty');
    const tooLong = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'x'.repeat(4097)));
    assert.equal(tooLong.code, 400);
    assert.equal(tooLong.description, 'Bad Request: message is too long');
    await bot.telegram.sendMessage(playerChat, 'x'.repeat(4096)); // the limit itself is fine
    // The limit counts what the user sees, after markup.
    await bot.telegram.sendMessage(playerChat, `<b>${'y'.repeat(4096)}</b>`, { parse_mode: 'HTML' });

    const stranger = await rejectsWithTelegramError(bot.telegram.sendMessage(999000111, 'hi'));
    assert.equal(stranger.description, 'Bad Request: chat not found', 'a bot cannot write first');

    fake.blockBot(playerChat);
    const blocked = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'are you there?'));
    assert.equal(blocked.code, 403);
    assert.equal(blocked.description, 'Forbidden: bot was blocked by the user');
    assert.ok(!fake.sent.some((m) => m.text === 'are you there?'));
  });

  test('reply_markup and link_preview_options are recorded; localhost button URLs are refused', async () => {
    const keyboard = Markup.inlineKeyboard([[Markup.button.url('Open ticket', 'https://support.example.com/t/42')], [Markup.button.callback('Mute', 'mute:42')]]);
    const message = await bot.telegram.sendMessage(playerChat, 'Ticket #42 has a new reply', {
      ...keyboard,
      link_preview_options: { is_disabled: true },
    });
    const stored = fake.sentTo(playerChat).at(-1)!;
    assert.equal(stored.message_id, message.message_id);
    assert.deepEqual(stored.reply_markup, {
      inline_keyboard: [[{ text: 'Open ticket', url: 'https://support.example.com/t/42', hide: false }], [{ text: 'Mute', callback_data: 'mute:42', hide: false }]],
    });
    assert.deepEqual(stored.link_preview_options, { is_disabled: true });

    const legacy = await bot.telegram.callApi('sendMessage', { chat_id: playerChat, text: 'old style', disable_web_page_preview: true } as never);
    assert.ok(legacy);
    assert.equal(fake.sent.at(-1)!.disable_web_page_preview, true);

    const local = await rejectsWithTelegramError(
      bot.telegram.sendMessage(playerChat, 'dev link', Markup.inlineKeyboard([Markup.button.url('Open', 'http://localhost:3000/t/42')])),
    );
    assert.equal(local.description, "Bad Request: inline keyboard button URL 'http://localhost:3000/t/42' is invalid: Wrong HTTP URL");
  });

  test('getUpdates really holds the request up to `timeout` and answers at once when an update arrives', async () => {
    const started = Date.now();
    const empty = await bot.telegram.callApi('getUpdates', { timeout: 1, offset: 0, limit: 100, allowed_updates: [] });
    const waited = Date.now() - started;
    assert.deepEqual(empty, []);
    assert.ok(waited >= 950 && waited < 2000, `held for ${waited} ms, expected about 1000`);

    const early = Date.now();
    const pending = bot.telegram.callApi('getUpdates', { timeout: 10, offset: 0, limit: 100, allowed_updates: [] });
    await fake.waitFor(() => fake.heldPolls === 1, 1000, 'the held poll');
    const update = fake.userSends(playerChat, 'ping');
    const updates = await pending;
    assert.ok(Date.now() - early < 1000, 'answered when the update arrived, not at the timeout');
    assert.deepEqual(
      updates.map((u) => u.update_id),
      [update.update_id],
    );

    // Not confirmed yet: asking again returns it again; an offset past it confirms it.
    const again = await bot.telegram.callApi('getUpdates', { offset: 0, limit: 100, timeout: 0, allowed_updates: [] });
    assert.deepEqual(again.map((u) => u.update_id), [update.update_id]);
    await bot.telegram.callApi('getUpdates', { offset: update.update_id + 1, limit: 100, timeout: 0, allowed_updates: [] });
    assert.equal(fake.pendingUpdates.length, 0);
  });

  test('a second getUpdates terminates the held one with 409 Conflict', async () => {
    const first = bot.telegram.callApi('getUpdates', { timeout: 5, offset: 0, limit: 100, allowed_updates: [] });
    await fake.waitFor(() => fake.heldPolls === 1, 1000, 'the held poll');
    const second = bot.telegram.callApi('getUpdates', { timeout: 0, offset: 0, limit: 100, allowed_updates: [] });
    const conflict = await rejectsWithTelegramError(first);
    assert.equal(conflict.code, 409);
    assert.match(conflict.description, /terminated by other getUpdates request/);
    assert.deepEqual(await second, []);
  });

  test('bot.launch() long-polls, bot.start gets the deep-link payload, bot.stop() ends launch and confirms the offset', async () => {
    const polling = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
    const payloads: string[] = [];
    polling.start(async (ctx) => {
      payloads.push(ctx.payload);
      await ctx.reply(`Linked with code ${ctx.payload}`);
    });
    let launchedAt = 0;
    const launched = polling.launch(() => {
      launchedAt = Date.now();
    });
    // Until getMe and deleteWebhook are done there is no polling to stop.
    assert.throws(() => polling.stop('too early'), /Bot is not running!/);
    await fake.waitFor(() => fake.heldPolls === 1, 2000, 'telegraf to start polling');
    assert.ok(launchedAt > 0, 'onLaunch ran once getMe succeeded');
    const poll = fake.calls('getUpdates').at(-1)!;
    assert.equal(poll.params.timeout, 50, 'telegraf long-polls with timeout 50');
    assert.equal(poll.status, 0, 'and the fake is still holding that request');
    assert.equal(fake.calls('deleteWebhook').length >= 1, true, 'launch() deletes any webhook first');

    const link = `https://t.me/${fake.username}?start=abc123`;
    const { payload } = fake.userOpensLink(7770001, link, { first_name: 'Sam' });
    assert.equal(payload, 'abc123');
    const reply = await fake.waitFor(() => fake.sentTo(7770001)[0], 2000, 'the /start reply');
    assert.equal(reply.text, 'Linked with code abc123');
    assert.deepEqual(payloads, ['abc123']);

    // Telegram drops start parameters outside [A-Za-z0-9_-]{1,64}: the bot gets a bare /start.
    assert.equal(fake.userOpensLink(7770002, `https://t.me/${fake.username}?start=abc.123`).payload, null);
    await fake.waitFor(() => fake.sentTo(7770002)[0], 2000, 'the bare /start reply');
    assert.deepEqual(payloads, ['abc123', '']);

    polling.stop('test done');
    await launched; // resolves once polling has stopped
    assert.equal(fake.heldPolls, 0);
    assert.equal(fake.pendingUpdates.length, 0, 'stop() confirmed the handled updates (no redelivery on restart)');
    assert.doesNotThrow(() => polling.stop('twice'), 'a second stop() is a no-op');

    // The same Telegraf instance can be launched again; handled updates are not delivered twice.
    const relaunched = polling.launch();
    await fake.waitFor(() => fake.heldPolls === 1, 2000, 'polling again');
    assert.deepEqual(payloads, ['abc123', '']);
    polling.stop('test done');
    await relaunched;
  });

  test('polling survives a 429 on getUpdates (waits retry_after), and bot.catch keeps a throwing handler from stopping it', async () => {
    const polling = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
    const seen: string[] = [];
    const caught: string[] = [];
    polling.on('message', (ctx) => {
      const text = 'text' in ctx.message ? ctx.message.text : '';
      if (text === 'boom') throw new Error('handler failed');
      seen.push(text);
    });
    polling.catch((error) => {
      caught.push(error instanceof Error ? error.message : String(error));
    });
    const launched = polling.launch();
    await fake.waitFor(() => fake.heldPolls === 1, 2000, 'polling');

    fake.failNext('getUpdates', { status: 429, retryAfter: 1 });
    fake.userSends(playerChat, 'boom');
    await fake.waitFor(() => fake.rateLimited.some((r) => r.method === 'getUpdates'), 2000, 'the 429');
    const limitedAt = Date.now();
    fake.userSends(playerChat, 'after the limit');
    await fake.waitFor(() => seen.includes('after the limit'), 4000, 'the message after the 429');
    const waited = Date.now() - limitedAt;
    assert.ok(waited >= 900, `telegraf polled again after ${waited} ms, before retry_after`);
    assert.deepEqual(caught, ['handler failed']);

    polling.stop('test done');
    await launched;
  });

  test('429 on sendMessage surfaces as TelegramError with retry_after; telegraf does not retry', async () => {
    const before = fake.calls('sendMessage').length;
    fake.failNext('sendMessage', { status: 429, retryAfter: 7 });
    const error = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'rate limited'));
    assert.equal(error.code, 429);
    assert.equal(error.description, 'Too Many Requests: retry after 7');
    assert.deepEqual(error.parameters, { retry_after: 7 });
    assert.equal(error.message, '429: Too Many Requests: retry after 7');
    assert.equal(fake.calls('sendMessage').length, before + 1, 'one attempt only');
    assert.ok(!fake.sent.some((m) => m.text === 'rate limited'));
    await bot.telegram.sendMessage(playerChat, 'later');
    assert.equal(fake.sent.at(-1)!.text, 'later');
  });

  test('5xx and outages: TelegramError for 500/502, FetchError when the port refuses, back on the same apiRoot', async () => {
    fake.failNext('sendMessage', { status: 500 });
    const internal = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'x'));
    assert.equal(internal.code, 500);
    assert.equal(internal.description, 'Internal Server Error', 'telegraf uses the HTTP status text for 5xx');

    await fake.setDown(true);
    const gateway = await rejectsWithTelegramError(bot.telegram.sendMessage(playerChat, 'during outage'));
    assert.equal(gateway.code, 502);
    assert.equal(gateway.description, 'Bad Gateway');

    await fake.setDown(true, 'refuse');
    // A keep-alive socket telegraf still holds makes the first failure ECONNRESET ("socket hang up").
    const cut = await rejectsWith(bot.telegram.sendMessage(playerChat, 'during outage'));
    assert.ok(!(cut instanceof TelegramError), 'network failures are not TelegramErrors');
    assert.equal(cut.name, 'FetchError');
    assert.ok(cut.code === 'ECONNREFUSED' || cut.code === 'ECONNRESET', `got ${cut.code}`);
    const refused = await rejectsWith(bot.telegram.sendMessage(playerChat, 'during outage'));
    assert.equal(refused.name, 'FetchError');
    assert.equal(refused.code, 'ECONNREFUSED');
    assert.ok(refused.message.includes('[REDACTED]') && !refused.message.includes(fake.token.split(':')[1]!), 'telegraf redacts the token');

    await fake.setDown(false);
    const back = await bot.telegram.sendMessage(playerChat, 'after outage');
    assert.equal(back.text, 'after outage');
    assert.ok(!fake.sent.some((m) => m.text === 'during outage'));
  });

  test('telegraf waits up to 500 s for an answer; an AbortSignal via callApi bounds it, but the message may be sent anyway', async () => {
    fake.delayNext('sendMessage', 3000);
    const started = Date.now();
    // telegraf's typings want the abort-controller shim's AbortSignal; node-fetch takes Node's own.
    const options = { signal: AbortSignal.timeout(200) } as unknown as CallApiOptions;
    const aborted = await rejectsWith(bot.telegram.callApi('sendMessage', { chat_id: playerChat, text: 'slow network' }, options));
    assert.ok(Date.now() - started < 1500, 'the signal ended the wait');
    assert.equal(aborted.name, 'AbortError');
    assert.ok(fake.sent.some((m) => m.text === 'slow network'), 'Telegram got it: a retry would send it twice');
  });

  test('setMyCommands and deleteWebhook/getWebhookInfo', async () => {
    await bot.telegram.setMyCommands([
      { command: 'start', description: 'Link your account' },
      { command: 'mute', description: 'Stop notifications' },
    ]);
    assert.deepEqual(fake.commands.at(-1)!.commands.map((c) => c.command), ['start', 'mute']);
    assert.deepEqual((await bot.telegram.getMyCommands()).map((c) => c.command), ['start', 'mute']);
    const invalid = await rejectsWithTelegramError(bot.telegram.setMyCommands([{ command: 'Mute-All', description: 'x' }]));
    assert.equal(invalid.description, 'Bad Request: BOT_COMMAND_INVALID');

    fake.userSends(playerChat, 'queued while offline');
    const info = await bot.telegram.getWebhookInfo();
    assert.equal(info.url, '');
    assert.equal(info.pending_update_count, 1);
    assert.equal(await bot.telegram.deleteWebhook({ drop_pending_updates: true }), true);
    assert.equal(fake.pendingUpdates.length, 0, 'drop_pending_updates drops them');
  });

  test('callback buttons: userPresses arrives as callback_query, answerCallbackQuery works once', async () => {
    const polling = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
    const pressed: string[] = [];
    polling.action(/^mute:(\d+)$/, async (ctx) => {
      pressed.push(ctx.match[1]!);
      await ctx.answerCbQuery('Muted');
    });
    const launched = polling.launch();
    await fake.waitFor(() => fake.heldPolls === 1, 2000, 'polling');
    const message = await bot.telegram.sendMessage(playerChat, 'Ticket #42', Markup.inlineKeyboard([Markup.button.callback('Mute', 'mute:42')]));
    const update = fake.userPresses(playerChat, message.message_id, 'mute:42');
    await fake.waitFor(() => fake.callbackAnswers.length > 0, 2000, 'the answer');
    assert.deepEqual(pressed, ['42']);
    assert.deepEqual(fake.callbackAnswers.at(-1), { callback_query_id: update.callback_query!.id, text: 'Muted' });
    const twice = await rejectsWithTelegramError(bot.telegram.answerCbQuery(update.callback_query!.id));
    assert.match(twice.description, /query is too old/);
    polling.stop('test done');
    await launched;
  });
});
