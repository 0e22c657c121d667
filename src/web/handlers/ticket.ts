// Seed 000 § Ticket page: the conversation, attachments, a reply form and the Close button.
import type { Request, Response } from 'express';
import { ticketKeepOpen } from '../../db/stale.js';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { ticketAttachments } from '../../db/attachments.js';
import { countTicketMessages, ticketMessagePage } from '../../db/messages.js';
import { ticketById, type Ticket } from '../../db/tickets.js';
import { assignableStaff, userById, type User } from '../../db/users.js';
import { MESSAGE_MAX, PRIORITIES, STATUSES } from '../../tickets/model.js';
import { message, type Message } from '../../i18n/index.js';
import {
  closeTicket,
  isStaff,
  replyAsPlayer,
  replyAsStaff,
  requestContext,
  STAFF_REPLY_STATUSES,
  TicketClosedError,
  TicketRuleError,
  ticketForViewer,
} from '../../tickets/service.js';
import { param } from '../params.js';
import { HttpError, notFound } from '../errors.js';
import { notifyChannelsOf } from '../../tickets/notifications.js';
import { snippets } from '../../db/snippets.js';
import { fillSnippet, snippetValuesFor } from '../../tickets/snippets.js';
import { multilineText, parseForm, queryText, zodMessage, type FieldErrors } from '../forms.js';
import { foldText } from '../text.js';
import { setFlash } from '../flash.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';
import { onStaleForm } from '../staleForms.js';
import type { UploadError } from '../uploads/errors.js';
import { claimUploads, requestUploads } from '../uploads/middleware.js';
import { mayRate, ratingOf, rateTicket, RATING_COMMENT_MAX, RATING_MAX, RATING_MIN } from '../../tickets/ratings.js';

const NOT_FOUND = 'ticket.notFound';

/**
 * What one ticket page renders at most (issue #12: a page's cost must not grow with what players
 * post). A conversation shows this many messages a page, the newest page first...
 */
export const CONVERSATION_PAGE_SIZE = 100;
/** ...and a message longer than this many characters is folded, with a link to read it whole. */
export const MESSAGE_FOLD_AT = 3000;

/** A positive whole number from the query or form, or a 404 (ids never error with 400/500). */
export function idParam(req: Request, name: string): number {
  const text = param(req, name);
  if (text === undefined || !/^[1-9]\d{0,14}$/.test(text)) throw notFound(NOT_FOUND);
  return Number(text);
}

/** The ticket of this request as the signed-in user may see it, or a 404. */
export function loadTicket(req: Request, res: Response, deps: AppDeps, intent: string, name = 'id'): Ticket {
  const id = idParam(req, name);
  const ticket = ticketForViewer(deps.db, id, res.locals.user!, { ...requestContext(req), intent }, (event) => deps.refusals.record(event));
  if (!ticket) throw notFound(NOT_FOUND);
  return ticket;
}

/** An optional positive whole number from the query string; `undefined` when absent, a 404 when malformed. */
function optionalNumber(req: Request, name: string, max: number): number | undefined {
  const text = queryText(req, name);
  if (text === '') return undefined;
  if (!/^[1-9]\d{0,14}$/.test(text) || Number(text) > max) throw notFound('ticket.noSuchPage');
  return Number(text);
}

/** Which page of the conversation to show (the last one unless `page` says otherwise). */
function conversationPage(req: Request, total: number): { page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(total / CONVERSATION_PAGE_SIZE));
  const page = optionalNumber(req, 'page', pages) ?? pages;
  return { page, pages };
}

/** The ticket's Discord channel while it exists: the bridge made it and the ticket is not closed (closing deletes it). */
export function discordChannelUrl(ticket: Ticket): string | undefined {
  if (!ticket.discordChannelId || !ticket.discordGuildId || ticket.status === 'closed') return undefined;
  return `https://discord.com/channels/${ticket.discordGuildId}/${ticket.discordChannelId}`;
}

/** The saved replies for the staff reply form, filled for this ticket and this staff member. */
function filledSnippets(deps: AppDeps, ticket: Ticket, owner: User | undefined, staffName: string): { id: number; name: string; text: string }[] {
  const values = snippetValuesFor(ticket, owner?.username, staffName);
  return snippets(deps.db).map((s) => ({ id: s.id, name: s.name, text: fillSnippet(s.body, values) }));
}

/** What a ticket page shows besides the ticket: a form's errors and values, a page error, kept text. */
export interface TicketPageExtra {
  errors?: FieldErrors;
  values?: Record<string, string>;
  /** An error for the whole page (alert at the top)... */
  error?: Message;
  /** ...or next to one of the staff forms: status, priority or assign. */
  errorFor?: 'status' | 'priority' | 'assign' | 'keep_open';
  /** A reply that could not be sent (the ticket was closed meanwhile), shown to copy or take to a new ticket. */
  kept?: string;
}

export function renderTicket(req: Request, res: Response, deps: AppDeps, ticket: Ticket, status = 200, extra: TicketPageExtra = {}): void {
  const user = res.locals.user!;
  const staff = isStaff(user);
  const { page, pages } = conversationPage(req, countTicketMessages(deps.db, ticket.id, staff));
  const messages = ticketMessagePage(deps.db, ticket.id, staff, CONVERSATION_PAGE_SIZE, (page - 1) * CONVERSATION_PAGE_SIZE);
  // `full=<message id>` shows that one message unfolded.
  const full = optionalNumber(req, 'full', Number.MAX_SAFE_INTEGER);
  const pageUrl = (p: number) => viewUrl('ticket', { id: ticket.id, page: p === pages ? undefined : p });
  const attachments = ticketAttachments(deps.db, ticket.id);
  const byMessage = new Map<number, typeof attachments>();
  for (const attachment of attachments) byMessage.set(attachment.messageId, [...(byMessage.get(attachment.messageId) ?? []), attachment]);
  const rating = ratingOf(deps.db, ticket.id);
  res.status(status);
  renderPage(req, res, 'ticket', {
    title: `#${ticket.id} ${ticket.subject}`,
    // Test hooks (data-ticket-id, data-status, data-priority on the page's main element): tests and
    // scripts read the ticket's state there rather than from wording that may change.
    mainData: { 'ticket-id': ticket.id, status: ticket.status, priority: ticket.priority },
    ticket,
    messages: messages.map((m) => {
      const fold = m.id === full ? { text: m.body, folded: false } : foldText(m.body, MESSAGE_FOLD_AT);
      return { ...m, shownBody: fold.text, folded: fold.folded, fullUrl: `${viewUrl('ticket', { id: ticket.id, page: page === pages ? undefined : page, full: m.id })}#message-${m.id}` };
    }),
    conversation: {
      page,
      pages,
      earlierUrl: page > 1 ? pageUrl(page - 1) : undefined,
      laterUrl: page < pages ? pageUrl(page + 1) : undefined,
      latestUrl: page < pages ? pageUrl(pages) : undefined,
    },
    attachmentsByMessage: byMessage,
    isOwner: ticket.userId === user.id,
    limits: deps.config.uploads,
    errors: extra.errors ?? {},
    values: { message: '', note: '', status: 'answered', rating: '', comment: '', ...extra.values },
    // "How did we do?": the owner's form once the ticket is closed, then the rating given.
    rating,
    rate: { canRate: mayRate(ticket, user, rating !== undefined), min: RATING_MIN, max: RATING_MAX, commentMax: RATING_COMMENT_MAX },
    error: extra.error,
    errorFor: extra.errorFor,
    kept: extra.kept,
    staff,
    ...(staff ? staffLocals(deps, ticket, user) : {}),
  });
}

function staffLocals(deps: AppDeps, ticket: Ticket, user: User): Record<string, unknown> {
  const owner = ticket.userId === null ? undefined : userById(deps.db, ticket.userId);
  return {
    owner,
    assignee: ticket.assigneeId === null ? undefined : userById(deps.db, ticket.assigneeId),
    assignable: assignableStaff(deps.db),
    statuses: STATUSES,
    priorities: PRIORITIES,
    staffReplyStatuses: STAFF_REPLY_STATUSES,
    discordUrl: discordChannelUrl(ticket),
    keepOpen: ticketKeepOpen(deps.db, ticket.id),
    snippets: filledSnippets(deps, ticket, owner, user.username),
  };
}

export function ticketPage(req: Request, res: Response, deps: AppDeps): void {
  renderTicket(req, res, deps, loadTicket(req, res, deps, 'view'));
}

const replySchema = z.object({ message: multilineText(MESSAGE_MAX) });
/** Support's reply also says where the ticket goes next (default: answered). */
const staffReplySchema = z.object({
  message: multilineText(MESSAGE_MAX),
  status: z.enum(STAFF_REPLY_STATUSES, { error: zodMessage('ticket.staff.badStatus') }).default('answered'),
});

export function replyToTicket(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'reply');
  const user = res.locals.user!;
  const staff = isStaff(user);
  const uploadError = res.locals.uploadError as UploadError | undefined;
  if (uploadError) {
    const values = { message: String(req.body?.message ?? ''), ...(staff ? { status: String(req.body?.status ?? 'answered') } : {}) };
    renderTicket(req, res, deps, ticket, uploadError.status, { errors: { attachments: uploadError.publicMessage }, values });
    return;
  }
  const form = staff ? parseForm(staffReplySchema, req.body) : parseForm(replySchema, req.body);
  if (!form.ok) {
    if (requestUploads(req).length > 0) form.errors.attachments = message('ticket.attachAgain');
    renderTicket(req, res, deps, ticket, 422, { errors: form.errors, values: form.values });
    return;
  }
  const uploads = requestUploads(req);
  const body = form.data.message;
  try {
    // Staff forms were parsed with staffReplySchema above, so the status is there and valid.
    const staffStatus = staff ? (form.data as z.output<typeof staffReplySchema>).status : undefined;
    const { messageId } = staffStatus
      ? replyAsStaff(deps.db, { ticketId: ticket.id, user, body, status: staffStatus, uploads }, requestContext(req), {
          whisperMax: deps.config.game.whisperMax,
          whisperEncoding: deps.config.game.textEncoding,
          discord: deps.config.discord.token !== undefined,
          notify: notifyChannelsOf(deps.config),
        })
      : replyAsPlayer(deps.db, { ticketId: ticket.id, user, body, uploads }, requestContext(req), { discord: deps.config.discord.token !== undefined });
    claimUploads(req);
    setFlash(req, 'flash.ticket.replySent');
    redirectAfterPost(res, `${viewUrl('ticket', { id: ticket.id })}#message-${messageId}`);
  } catch (err) {
    if (!(err instanceof TicketClosedError)) throw err;
    // Closed in another tab meanwhile: the text is not lost, it is shown again to copy or take to a new ticket.
    renderTicket(req, res, deps, { ...ticket, status: 'closed' }, 409, { error: err.userMessage, kept: body });
  }
}

export function closeTicketAction(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'close');
  const user = res.locals.user!;
  if (ticket.userId !== user.id && !isStaff(user)) throw notFound(NOT_FOUND);
  closeTicket(deps.db, ticket.id, user, requestContext(req), notifyChannelsOf(deps.config));
  setFlash(req, 'flash.ticket.closed');
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

const RATING_VALUES = Array.from({ length: RATING_MAX - RATING_MIN + 1 }, (_, i) => String(RATING_MIN + i)) as [string, ...string[]];
const rateSchema = z.object({
  rating: z.enum(RATING_VALUES, { error: zodMessage('ticket.rate.badRating') }),
  comment: z
    .string({ error: zodMessage('form.once') })
    .default('')
    .transform((text) => text.replace(/\r\n?/g, '\n').trim())
    .pipe(z.string().max(RATING_COMMENT_MAX, zodMessage('form.tooLong', { count: RATING_COMMENT_MAX }))),
});

/** "How did we do?": the owner rates their closed ticket, once (src/tickets/ratings.ts). */
export function rateTicketAction(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'rate');
  const user = res.locals.user!;
  const form = parseForm(rateSchema, req.body);
  try {
    if (!form.ok) {
      // The rules come first (a staff member or an open ticket is refused whatever was sent); then the form's errors, the comment kept.
      if (isStaff(user)) throw new TicketRuleError(403, message('ticket.rate.ownerOnly'));
      if (ticket.status !== 'closed') throw new TicketRuleError(409, message('ticket.rate.notClosed'));
      if (ratingOf(deps.db, ticket.id)) throw new TicketRuleError(409, message('ticket.rate.already'));
      renderTicket(req, res, deps, ticket, 422, { errors: form.errors, values: form.values });
      return;
    }
    rateTicket(deps.db, ticket.id, user, { rating: Number(form.data.rating), comment: form.data.comment === '' ? null : form.data.comment }, requestContext(req));
  } catch (err) {
    if (!(err instanceof TicketRuleError)) throw err;
    if (err.status === 404) throw notFound(NOT_FOUND);
    if (err.status !== 409) throw new HttpError(err.status, err.userMessage);
    // Open, or rated already (in another tab, say): the page again, saying so.
    renderTicket(req, res, deps, ticketById(deps.db, ticket.id) ?? ticket, 409, { error: err.userMessage });
    return;
  }
  setFlash(req, 'flash.ticket.rated');
  redirectAfterPost(res, `${viewUrl('ticket', { id: ticket.id })}#rate`);
}

/**
 * A reply or note whose form token had expired (the session rotated, the page was open for long):
 * the page again with the typed text, a fresh token and a line saying so; nothing is stored.
 */
export function staleTicketForm(req: Request, res: Response, deps: AppDeps): void {
  // Only to whoever may see the ticket; anyone else gets the plain refusal (and no refusal row:
  // the token already failed, so nothing was asked of the ticket).
  const text = param(req, 'id');
  const id = text !== undefined && /^[1-9]\d{0,14}$/.test(text) ? Number(text) : undefined;
  const ticket = id === undefined ? undefined : ticketForViewer(deps.db, id, res.locals.user!, { ...requestContext(req), intent: 'view' }, () => {});
  if (!ticket) throw new HttpError(403, 'request.csrf');
  const values = Object.fromEntries(
    ['message', 'note', 'status'].flatMap((name) => {
      const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
      return typeof value === 'string' ? [[name, value]] : [];
    }),
  );
  const errors: FieldErrors = requestUploads(req).length > 0 ? { attachments: message('ticket.attachAgain') } : {};
  // A reply to a ticket closed meanwhile has no form to go back to: its text is kept as after a 409.
  const kept = ticket.status === 'closed' && values.message?.trim() ? values.message : undefined;
  renderTicket(req, res, deps, ticket, 403, { error: message('form.expired'), values, errors, kept });
}
onStaleForm(replyToTicket, staleTicketForm);
