// What a notification says, by email (plain text + HTML) and Telegram (HTML parse mode). Every
// user value is escaped for its medium; links point at APP_URL.
import { escapeHtml } from '../html.js';
import type { TicketEvent, TicketNotificationPayload } from '../tickets/notifications.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const EXCERPT = 1500;

function excerpt(text: string): string {
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text;
}

export function ticketUrl(appUrl: string, ticketId: number): string {
  return `${appUrl}/index.php?view=ticket&id=${ticketId}`;
}

function headline(event: TicketEvent): string {
  switch (event.kind) {
    case 'support_reply':
      return event.status === 'waiting_user' ? 'Support answered and needs your reply' : 'Support answered';
    case 'status':
      return event.to === 'waiting_user' ? 'Your answer is needed' : `Status changed to ${event.to}`;
    case 'closed':
      return 'Ticket closed by Support';
  }
}

function detail(event: TicketEvent): string {
  switch (event.kind) {
    case 'support_reply':
      return `${event.staffName} wrote:\n\n${excerpt(event.body)}`;
    case 'status':
      return `${event.by} changed the status from ${event.from} to ${event.to}.`;
    case 'closed':
      return `${event.by} closed the ticket. If you still need help, open a new ticket.`;
  }
}

export function renderTicketEmail(payload: TicketNotificationPayload, username: string, appUrl: string): RenderedEmail {
  const link = ticketUrl(appUrl, payload.ticketId);
  const title = headline(payload.event);
  const body = detail(payload.event);
  const subject = `[Ticket #${payload.ticketId}] ${title}: ${payload.subject}`.replace(/[\r\n]+/g, ' ');
  const text = `Hello ${username},\n\n${title} on ticket #${payload.ticketId} "${payload.subject}".\n\n${body}\n\nOpen the ticket: ${link}\n\n— Support\n`;
  const html = `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">
<p>Hello ${escapeHtml(username)},</p>
<p><strong>${escapeHtml(title)}</strong> on ticket #${payload.ticketId} “${escapeHtml(payload.subject)}”.</p>
<div style="white-space:pre-wrap;border-left:3px solid #2f5bd3;padding-left:12px">${escapeHtml(body)}</div>
<p><a href="${escapeHtml(link)}">Open the ticket</a></p>
<p style="color:#5f6b7a">— Support</p>
</body></html>`;
  return { subject, text, html };
}

export function renderVerificationEmail(username: string, link: string): RenderedEmail {
  return {
    subject: 'Confirm your email address for Support notifications',
    text: `Hello ${username},\n\nConfirm this address to get Support notifications by email:\n${link}\n\nIf you did not ask for this, ignore this message.\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5"><p>Hello ${escapeHtml(username)},</p><p>Confirm this address to get Support notifications by email:</p><p><a href="${escapeHtml(link)}">Confirm my email address</a></p><p style="color:#5f6b7a">If you did not ask for this, ignore this message.</p></body></html>`,
  };
}

/** Telegram HTML parse mode: only & < > need escaping in text (https://core.telegram.org/bots/api#html-style). */
export function telegramHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

export function renderTicketTelegram(payload: TicketNotificationPayload, appUrl: string): string {
  const link = ticketUrl(appUrl, payload.ticketId);
  return `<b>${telegramHtml(headline(payload.event))}</b>\nTicket #${payload.ticketId}: ${telegramHtml(payload.subject)}\n\n${telegramHtml(detail(payload.event))}\n\n<a href="${telegramHtml(link).replaceAll('"', '&quot;')}">Open the ticket</a>`;
}
