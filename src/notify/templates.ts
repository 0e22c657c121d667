// What a notification says, by email (plain text + HTML) and Telegram (HTML parse mode), in the
// recipient's language (every word from the catalogues in locales/, `notify.*`). Every user value
// is escaped for its medium; links point at APP_URL.
import { escapeHtml } from '../html.js';
import { negotiateLocale, REFERENCE_LOCALE, supportedLocale, translator, type MessageKey, type Params, type Translator } from '../i18n/index.js';
import type { TicketEvent, TicketNotificationPayload } from '../tickets/notifications.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const EXCERPT = 1500;
const ENGLISH = translator(REFERENCE_LOCALE);

function excerpt(text: string): string {
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text;
}

export function ticketUrl(appUrl: string, ticketId: number): string {
  return `${appUrl}/index.php?view=ticket&id=${ticketId}`;
}

/** Where the owner rates a closed ticket ("How did we do?" on the ticket page). */
export function ratingUrl(appUrl: string, ticketId: number): string {
  return `${ticketUrl(appUrl, ticketId)}#rate`;
}

/**
 * The language a person's notifications are written in: the account's own choice, else the
 * language its last page was shown in, else `fallback` (a Telegram user's `language_code`, say),
 * else DEFAULT_LOCALE. Chosen when the message is sent, so a changed language applies at once.
 */
export function recipientLocale(user: { locale: string | null; seenLocale: string | null } | undefined, defaultLocale: string, fallback?: string): string {
  return supportedLocale(user?.locale) ?? supportedLocale(user?.seenLocale) ?? negotiateLocale(fallback) ?? supportedLocale(defaultLocale) ?? REFERENCE_LOCALE;
}

function headline(i18n: Translator, event: TicketEvent): string {
  switch (event.kind) {
    case 'support_reply':
      return i18n.t(event.status === 'waiting_user' ? 'notify.headline.replyWaiting' : 'notify.headline.reply');
    case 'status':
      return event.to === 'waiting_user' ? i18n.t('notify.headline.waiting') : i18n.t('notify.headline.status', { toStatus: event.to });
    case 'closed':
      return i18n.t('notify.headline.closed');
    case 'stale_reminder':
      return i18n.t('notify.headline.staleReminder');
  }
}

/** The event's lines: what happened, then (for a reply) the staff member's words as written. */
function detail(i18n: Translator, event: TicketEvent): { line: string; quote?: string } {
  switch (event.kind) {
    case 'support_reply':
      return { line: i18n.t('notify.detail.reply', { staff: event.staffName }), quote: excerpt(event.body) };
    case 'status':
      return { line: i18n.t('notify.detail.status', { by: event.by, fromStatus: event.from, toStatus: event.to }) };
    case 'closed':
      return { line: i18n.t('notify.detail.closed', { by: event.by }) };
    case 'stale_reminder':
      return { line: i18n.t('notify.detail.staleReminder', { date: i18n.dateTime(event.closesAt) }) };
  }
}

function detailText(d: { line: string; quote?: string }): string {
  return d.quote === undefined ? d.line : `${d.line}\n\n${d.quote}`;
}

/**
 * A catalogue text as HTML: the text and the plain params escaped with `escape`, the `html`
 * params put in as they are (markup built here, its own values already escaped).
 */
function htmlText(i18n: Translator, key: MessageKey, params: Params, html: Record<string, string>, escape: (s: string) => string): string {
  const marks = Object.keys(html).map((name, i) => [name, `\u0000${i}\u0000`] as const);
  let out = escape(i18n.t(key, { ...params, ...Object.fromEntries(marks) }));
  for (const [name, mark] of marks) out = out.replace(mark, () => html[name]!);
  return out;
}

export interface RenderOptions {
  /** The recipient's translator (recipientLocale, TZ); English by default. */
  i18n?: Translator;
  /** When the change happened (shown in the recipient's language and the app's time zone). */
  at?: number;
}

export function renderTicketEmail(payload: TicketNotificationPayload, username: string, appUrl: string, options: RenderOptions = {}): RenderedEmail {
  const i18n = options.i18n ?? ENGLISH;
  const link = ticketUrl(appUrl, payload.ticketId);
  const id = String(payload.ticketId);
  const title = headline(i18n, payload.event);
  const body = detail(i18n, payload.event);
  const subject = i18n.t('notify.subject', { id, headline: title, subject: payload.subject }).replace(/[\r\n]+/g, ' ');
  const greeting = i18n.t('notify.greeting', { name: username });
  const sentAt = options.at === undefined ? undefined : i18n.t('notify.sentAt', { time: i18n.dateTime(options.at) });
  const open = i18n.t('notify.openTicket');
  const signature = i18n.t('notify.signature');
  // A close asks how it went: a link to the rating form.
  const rate = payload.event.kind === 'closed' ? { label: i18n.t('notify.rateTicket'), link: ratingUrl(appUrl, payload.ticketId) } : undefined;
  const text = [
    greeting,
    i18n.t('notify.intro', { headline: title, id, subject: payload.subject }),
    ...(sentAt ? [sentAt] : []),
    detailText(body),
    `${open}: ${link}`,
    ...(rate ? [`${rate.label}: ${rate.link}`] : []),
    signature,
  ].join('\n\n');
  const intro = htmlText(i18n, 'notify.intro', { id }, { headline: `<strong>${escapeHtml(title)}</strong>`, subject: `<span dir="auto">${escapeHtml(payload.subject)}</span>` }, escapeHtml);
  const quote = body.quote === undefined ? '' : `\n<div dir="auto" style="white-space:pre-wrap;border-left:3px solid #2f5bd3;padding-left:12px">${escapeHtml(body.quote)}</div>`;
  const html = `<!doctype html><html lang="${escapeHtml(i18n.locale)}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;line-height:1.5">
<p>${escapeHtml(greeting)}</p>
<p>${intro}</p>${sentAt ? `\n<p style="color:#5f6b7a">${escapeHtml(sentAt)}</p>` : ''}
<p>${escapeHtml(body.line)}</p>${quote}
<p><a href="${escapeHtml(link)}">${escapeHtml(open)}</a></p>${rate ? `\n<p><a href="${escapeHtml(rate.link)}">${escapeHtml(rate.label)}</a></p>` : ''}
<p style="color:#5f6b7a">${escapeHtml(signature)}</p>
</body></html>`;
  return { subject, text: `${text}\n`, html };
}

export function renderVerificationEmail(username: string, link: string, options: Pick<RenderOptions, 'i18n'> = {}): RenderedEmail {
  const i18n = options.i18n ?? ENGLISH;
  const subject = i18n.t('notify.verify.subject');
  const greeting = i18n.t('notify.greeting', { name: username });
  const intro = i18n.t('notify.verify.intro');
  const ignore = i18n.t('notify.verify.ignore');
  return {
    subject,
    text: `${greeting}\n\n${intro}\n${link}\n\n${ignore}\n`,
    html: `<!doctype html><html lang="${escapeHtml(i18n.locale)}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;line-height:1.5"><p>${escapeHtml(greeting)}</p><p>${escapeHtml(intro)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(i18n.t('notify.verify.button'))}</a></p><p style="color:#5f6b7a">${escapeHtml(ignore)}</p></body></html>`,
  };
}

/** Telegram HTML parse mode: only & < > need escaping in text (https://core.telegram.org/bots/api#html-style). */
export function telegramHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** A catalogue text for Telegram's HTML parse mode, `bold` params in <b>. */
export function telegramText(i18n: Translator, key: MessageKey, params: Params = {}, bold: Record<string, string> = {}): string {
  return htmlText(i18n, key, params, Object.fromEntries(Object.entries(bold).map(([name, value]) => [name, `<b>${telegramHtml(value)}</b>`])), telegramHtml);
}

export function renderTicketTelegram(payload: TicketNotificationPayload, appUrl: string, options: RenderOptions = {}): string {
  const i18n = options.i18n ?? ENGLISH;
  const link = ticketUrl(appUrl, payload.ticketId);
  const body = detail(i18n, payload.event);
  const ticketLine = i18n.t('notify.ticketLine', { id: String(payload.ticketId), subject: payload.subject });
  const sentAt = options.at === undefined ? '' : `\n<i>${telegramHtml(i18n.t('notify.sentAt', { time: i18n.dateTime(options.at) }))}</i>`;
  const anchor = (href: string, label: string) => `<a href="${telegramHtml(href).replaceAll('"', '&quot;')}">${telegramHtml(label)}</a>`;
  const rate = payload.event.kind === 'closed' ? `\n${anchor(ratingUrl(appUrl, payload.ticketId), i18n.t('notify.rateTicket'))}` : '';
  return `<b>${telegramHtml(headline(i18n, payload.event))}</b>\n${telegramHtml(ticketLine)}${sentAt}\n\n${telegramHtml(detailText(body))}\n\n${anchor(link, i18n.t('notify.openTicket'))}${rate}`;
}
