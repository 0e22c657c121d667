// Emails and Telegram messages in the recipient's language (issue #16): every word from the
// catalogues, chosen when the message is sent (account choice, else the last page's language,
// else DEFAULT_LOCALE), through the real SMTP fake (mailparser) and the fake Bot API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { markEmailVerified, setSeenLocale, setTelegramChat, setUserEmail, setUserLocale, type User } from '../../src/db/users.js';
import { catalogue, LOCALES, translator, type MessageKey } from '../../src/i18n/index.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import { createTelegramService, type TelegramService } from '../../src/notify/telegram.js';
import { recipientLocale, renderTicketEmail, renderTicketTelegram, renderVerificationEmail } from '../../src/notify/templates.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/notify/worker.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { Signal } from '../../src/signal.js';
import type { TicketEvent } from '../../src/tickets/notifications.js';
import { closeTicket, createWebTicket, replyAsStaff } from '../../src/tickets/service.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { startFakeTelegram, type FakeTelegram } from '../../support/fakes/telegram.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';

const APP_URL = 'https://support.example.org';
const EVENTS: { event: TicketEvent; headline: MessageKey; params?: Record<string, string> }[] = [
  { event: { kind: 'support_reply', staffName: 'GM Sam', body: 'Your sword is back.', status: 'answered' }, headline: 'notify.headline.reply' },
  { event: { kind: 'support_reply', staffName: 'GM Sam', body: 'Which map?', status: 'waiting_user' }, headline: 'notify.headline.replyWaiting' },
  { event: { kind: 'status', from: 'open', to: 'in_progress', by: 'GM Sam' }, headline: 'notify.headline.status', params: { toStatus: 'in_progress' } },
  { event: { kind: 'status', from: 'answered', to: 'waiting_user', by: 'GM Sam' }, headline: 'notify.headline.waiting' },
  { event: { kind: 'closed', by: 'GM Sam' }, headline: 'notify.headline.closed' },
];
const at = Date.UTC(2026, 11, 1, 12, 30);

describe('each language’s ticket email and Telegram message', () => {
  for (const locale of LOCALES) {
    test(`${locale}: translated headline in subject, text and HTML; no placeholder left; <html lang>`, () => {
      const i18n = translator(locale, 'Europe/Moscow');
      for (const { event, headline, params } of EVENTS) {
        const title = i18n.t(headline, params);
        const payload = { ticketId: 42, subject: 'Lost sword', event };
        const mail = renderTicketEmail(payload, 'hero', APP_URL, { i18n, at });
        assert.ok(mail.subject.includes(title), `${locale} subject: ${mail.subject}`);
        assert.ok(mail.text.includes(title), `${locale} text`);
        assert.ok(mail.html.includes(title), `${locale} html`);
        assert.ok(mail.html.startsWith(`<!doctype html><html lang="${locale}">`), `${locale} <html lang>`);
        for (const part of [mail.subject, mail.text, mail.html]) assert.doesNotMatch(part, /[{}]/, `${locale}: a placeholder left in ${part}`);
        assert.ok(mail.text.includes(i18n.t('notify.greeting', { name: 'hero' })));
        assert.ok(mail.text.includes(`${i18n.t('notify.openTicket')}: ${APP_URL}/index.php?view=ticket&id=42`));
        assert.ok(mail.text.includes(i18n.dateTime(at)), 'the date in the reader’s language and the app’s zone');
        const tg = renderTicketTelegram(payload, APP_URL, { i18n, at });
        assert.ok(tg.includes(`<b>${title}</b>`));
        assert.doesNotMatch(tg, /[{}]/);
        if (locale !== 'en') {
          // Not one English sentence of the frame: only names (GM Sam, the subject) stay as written.
          for (const english of ['Hello', 'Open the ticket', 'changed the status', 'closed the ticket', ' wrote:', 'Sent ']) {
            assert.ok(!mail.text.includes(english), `${locale}: "${english}" in ${mail.text}`);
          }
        }
      }
      const verify = renderVerificationEmail('hero', `${APP_URL}/verify?t=x`, { i18n });
      assert.equal(verify.subject, i18n.t('notify.verify.subject'));
      assert.ok(verify.html.startsWith(`<!doctype html><html lang="${locale}">`));
      assert.ok(verify.html.includes(i18n.t('notify.verify.button')));
      assert.doesNotMatch(verify.text + verify.html, /[{}]/);
    });
  }

  test('status names are the reader’s labels, never the stored values', () => {
    const i18n = translator('ru');
    const mail = renderTicketEmail({ ticketId: 1, subject: 's', event: { kind: 'status', from: 'open', to: 'in_progress', by: 'GM' } }, 'p', APP_URL, { i18n });
    assert.ok(mail.text.includes('«Открыт»') && mail.text.includes('«В работе»'), mail.text);
    assert.doesNotMatch(mail.text + mail.html, /in_progress|waiting_user/);
  });

  test('the language: the account’s choice, else the last page’s, else the Telegram user’s, else DEFAULT_LOCALE', () => {
    assert.equal(recipientLocale({ locale: 'th', seenLocale: 'ru' }, 'en'), 'th');
    assert.equal(recipientLocale({ locale: null, seenLocale: 'ru' }, 'en'), 'ru');
    assert.equal(recipientLocale({ locale: null, seenLocale: null }, 'es', 'pt-br'), 'pt-BR');
    assert.equal(recipientLocale(undefined, 'es'), 'es');
    assert.equal(recipientLocale({ locale: 'klingon', seenLocale: null }, 'id'), 'id');
    assert.ok(Object.keys(catalogue('th') ?? {}).includes('notify.subject'));
  });
});

describe('delivered through SMTP and the Bot API', () => {
  let smtp: FakeSmtp;
  let tg: FakeTelegram;
  let app: TestApp;
  let telegram: TelegramService;
  let worker: NotificationWorker | undefined;
  let email: ReturnType<typeof createEmailSender>;
  const signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
  let staff: User;
  const relay = { whisperMax: 200, discord: false, notify: { email: true, telegram: true } };

  before(async () => {
    smtp = await startFakeSmtp({ user: 'mailer', pass: 'secret' });
    tg = await startFakeTelegram();
    app = await startApp({
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@example.org>', TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, APP_URL: 'http://support.example.org', TZ: 'Asia/Bangkok' },
      app: { signals, telegramBotUsername: () => telegram.botUsername() },
    });
    email = createEmailSender(app.config, 300);
    telegram = createTelegramService({ db: app.db, config: app.config, logger: createLogger('silent') });
    telegram.start();
    await tg.waitFor(() => telegram.botUsername(), 5000, 'the bot to know its name');
    staff = await addUser(app.db, 'gm', 'correct horse battery', 'staff');
    saveNotificationSwitches(app.db, { email: true, telegram: true });
  });
  after(async () => {
    await worker?.stop();
    await telegram.stop();
    email.close();
    await app.close();
    await tg.stop();
    await smtp.stop();
  });

  /** Started once, after the first test has queued its rows: what it sends is rendered then. */
  function startWorker(): void {
    if (worker) return;
    worker = createNotificationWorker({ db: app.db, config: app.config, logger: createLogger('silent'), signal: signals.notifications, senders: { email: email.send, telegram: telegram.send }, retryBaseMs: 100 });
    worker.start();
  }

  async function mailed(name: string, address: string): Promise<User> {
    const user = await addUser(app.db, name);
    setUserEmail(app.db, user.id, address);
    markEmailVerified(app.db, user.id, address);
    return user;
  }

  test('ru and th emails (the language read when sending, not when queueing), pt-BR on Telegram', async () => {
    const ivan = await mailed('ivan', 'ivan@example.org');
    const somchai = await mailed('somchai', 'somchai@example.org');
    const joao = await addUser(app.db, 'joao');
    tg.addChat({ id: 5550001, type: 'private', first_name: 'João' });
    setTelegramChat(app.db, joao.id, '5550001');

    const ru = createWebTicket(app.db, { user: ivan, subject: 'Пропал меч', body: 'помогите', priority: 'normal', uploads: [] }, { ip: null });
    replyAsStaff(app.db, { ticketId: ru, user: staff, body: 'Меч найден.', status: 'waiting_user', uploads: [] }, { ip: null }, relay);
    const th = createWebTicket(app.db, { user: somchai, subject: 'ดาบหาย', body: 'ช่วยด้วย', priority: 'normal', uploads: [] }, { ip: null });
    closeTicket(app.db, th, staff, { ip: null }, relay.notify);
    const pt = createWebTicket(app.db, { user: joao, subject: 'Perdi minha espada', body: 'ajuda', priority: 'normal', uploads: [] }, { ip: null });
    replyAsStaff(app.db, { ticketId: pt, user: staff, body: 'Achamos a espada.', status: 'waiting_user', uploads: [] }, { ip: null }, relay);

    // Queued in English (no language known yet); the languages are known by the time they go out.
    setUserLocale(app.db, ivan.id, 'ru');
    setSeenLocale(app.db, somchai.id, 'th');
    setUserLocale(app.db, joao.id, 'pt-BR');
    startWorker();

    const ruMail = await smtp.waitFor(() => smtp.messagesTo('ivan@example.org')[0], 5000, 'the Russian email');
    assert.equal(ruMail.subject, `[Тикет #${ru}] Поддержка ответила и ждёт вашего ответа: Пропал меч`);
    assert.match(ruMail.text, /^Здравствуйте, ivan!/);
    assert.match(ruMail.text, /gm пишет:\n\nМеч найден\./);
    assert.match(ruMail.text, new RegExp(`Открыть тикет: http://support\\.example\\.org/index\\.php\\?view=ticket&id=${ru}`));
    assert.match(ruMail.html ?? '', /^<!doctype html><html lang="ru">/);
    assert.match(ruMail.html ?? '', /<a href="[^"]+">Открыть тикет<\/a>/);
    assert.doesNotMatch(`${ruMail.subject}${ruMail.text}${ruMail.html}`, /[{}]|Support answered|Open the ticket/);

    const thMail = await smtp.waitFor(() => smtp.messagesTo('somchai@example.org')[0], 5000, 'the Thai email');
    assert.equal(thMail.subject, `[ทิกเก็ต #${th}] ฝ่ายซัพพอร์ตปิดทิกเก็ตแล้ว: ดาบหาย`);
    assert.match(thMail.text, /gm ปิดทิกเก็ตแล้ว หากยังต้องการความช่วยเหลือ/);
    assert.match(thMail.text, /ส่งเมื่อ .*GMT\+7|ส่งเมื่อ .*\+07/, 'the date in Thai, in the app’s zone');
    assert.match(thMail.html ?? '', /^<!doctype html><html lang="th">/);
    assert.doesNotMatch(`${thMail.subject}${thMail.text}${thMail.html}`, /[{}]|closed the ticket|Hello/);

    const ptMessage = await tg.waitFor(() => tg.sentTo(5550001)[0], 5000, 'the pt-BR Telegram message');
    assert.equal(ptMessage.parse_mode, 'HTML');
    assert.match(ptMessage.plainText, /^O Suporte respondeu e precisa da sua resposta\nTicket #\d+: Perdi minha espada/);
    assert.match(ptMessage.plainText, /gm escreveu:\n\nAchamos a espada\./);
    assert.match(ptMessage.plainText, /Abrir o ticket$/);
    assert.ok(ptMessage.entities.some((e) => e.type === 'text_link' && e.url === `http://support.example.org/index.php?view=ticket&id=${pt}`));
    assert.doesNotMatch(ptMessage.plainText, /Support answered|Open the ticket|[{}]/);
  });

  test('the bot answers /start in the Telegram user’s language before a link, in the account’s after', async () => {
    startWorker();
    tg.userSends(5550002, '/start', { first_name: 'Ana', language_code: 'es' });
    const bare = await tg.waitFor(() => tg.sentTo(5550002)[0], 5000, 'the answer to a bare /start');
    assert.equal(bare.plainText, 'Abre el enlace de tu página de ajustes de Soporte para conectar este chat.');

    tg.userSends(5550003, '/start not-a-code', { first_name: 'Olga', language_code: 'ru' });
    const refused = await tg.waitFor(() => tg.sentTo(5550003)[0], 5000, 'the answer to a bad code');
    assert.equal(refused.plainText, 'Эта ссылка больше не действует. Создайте новую на странице настроек поддержки.');

    const { createTelegramLinkCode } = await import('../../src/accounts.js');
    const dewi = await addUser(app.db, 'dewi');
    setUserLocale(app.db, dewi.id, 'id');
    const code = createTelegramLinkCode(app.db, dewi.id);
    tg.userSends(5550004, `/start ${code}`, { first_name: 'Dewi', language_code: 'en' });
    const linked = await tg.waitFor(() => tg.sentTo(5550004)[0], 5000, 'the link confirmation');
    assert.equal(linked.plainText, 'Terhubung ke dewi. Anda akan diberi tahu di sini saat Support menjawab tiket Anda.');
    assert.ok(linked.entities.some((e) => e.type === 'bold' && linked.plainText.slice(e.offset, e.offset + e.length) === 'dewi'));
  });
});
