// What Support does to a ticket from the web besides answering: status, priority, assignee and
// internal notes. The route table lets only staff and admins reach these (actionAccess). A bad
// form shows the ticket page again with the error next to the form it came from (422); a change
// is confirmed by a flash message.
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import type { Ticket } from '../../db/tickets.js';
import { userById } from '../../db/users.js';
import { message, type MessageKey, type Translator } from '../../i18n/index.js';
import { MESSAGE_MAX, PRIORITIES, STATUSES } from '../../tickets/model.js';
import { addInternalNote, assignTicket, requestContext, setTicketPriority, setTicketStatus, TicketRuleError } from '../../tickets/service.js';
import { notifyChannelsOf } from '../../tickets/notifications.js';
import { setKeepOpen } from '../../tickets/stale.js';
import { setFlash } from '../flash.js';
import { formValues, multilineText, parseForm, zodMessage, type FieldErrors } from '../forms.js';
import { redirectAfterPost, viewUrl } from '../render.js';
import { onStaleForm } from '../staleForms.js';
import { loadTicket, renderTicket, staleTicketForm } from './ticket.js';

const statusSchema = z.object({ status: z.enum(STATUSES, { error: zodMessage('ticket.staff.badStatus') }) });
const prioritySchema = z.object({ priority: z.enum(PRIORITIES, { error: zodMessage('ticket.staff.badPriority') }) });
const assignSchema = z.object({
  assignee: z.string({ error: zodMessage('ticket.staff.badAssignee') }).regex(/^(|me|[1-9]\d{0,14})$/, zodMessage('ticket.staff.badAssignee')),
});
const keepOpenSchema = z.object({ keep_open: z.enum(['0', '1'], { error: zodMessage('ticket.staff.badKeepOpen') }) });
const noteSchema = z.object({ note: multilineText(MESSAGE_MAX) });

/** The ticket page again with the error next to the staff form it came from. */
function refuse(req: Request, res: Response, deps: AppDeps, ticket: Ticket, form: 'status' | 'priority' | 'assign' | 'keep_open', errors: FieldErrors, status = 422): void {
  const error = Object.values(errors)[0] ?? message('error.title.422');
  renderTicket(req, res, deps, ticket, status, {
    error,
    errorFor: form,
    values: formValues(req.body),
  });
}

const i18nOf = (res: Response) => res.locals.i18n as Translator;

export function changeStatus(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'status');
  const form = parseForm(statusSchema, req.body);
  if (!form.ok) return refuse(req, res, deps, ticket, 'status', form.errors);
  const status = form.data.status;
  const changed = setTicketStatus(deps.db, ticket.id, status, res.locals.user!, requestContext(req), notifyChannelsOf(deps.config));
  if (changed && ticket.status === 'closed') setFlash(req, 'flash.ticket.reopened');
  else if (changed && status === 'closed') setFlash(req, 'flash.ticket.closed');
  else setFlash(req, 'flash.ticket.status', { label: i18nOf(res).status(status, { staff: true }) });
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

export function changePriority(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'priority');
  const form = parseForm(prioritySchema, req.body);
  if (!form.ok) return refuse(req, res, deps, ticket, 'priority', form.errors);
  setTicketPriority(deps.db, ticket.id, form.data.priority, res.locals.user!, requestContext(req));
  setFlash(req, 'flash.ticket.priority', { label: i18nOf(res).t(`priority.${form.data.priority}` as MessageKey) });
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

export function assignTicketAction(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'assign');
  const form = parseForm(assignSchema, req.body);
  if (!form.ok) return refuse(req, res, deps, ticket, 'assign', form.errors);
  const user = res.locals.user!;
  // `me` is the staff panel's "Assign to me" button.
  const assignee = form.data.assignee === '' ? null : form.data.assignee === 'me' ? user.id : Number(form.data.assignee);
  try {
    assignTicket(deps.db, ticket.id, assignee, user, requestContext(req));
  } catch (err) {
    if (!(err instanceof TicketRuleError)) throw err;
    return refuse(req, res, deps, ticket, 'assign', { assignee: err.userMessage }, err.status);
  }
  const name = assignee === null ? undefined : userById(deps.db, assignee)?.username;
  if (name === undefined) setFlash(req, 'flash.ticket.unassigned');
  else setFlash(req, 'flash.ticket.assigned', { name });
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

/** Issue #18: "keep open": the ticket is never reminded or closed for waiting on the player. */
export function keepOpenAction(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'keep_open');
  const form = parseForm(keepOpenSchema, req.body);
  if (!form.ok) return refuse(req, res, deps, ticket, 'keep_open', form.errors);
  const keepOpen = form.data.keep_open === '1';
  const user = res.locals.user!;
  setKeepOpen(deps.db, ticket.id, keepOpen, user, requestContext(req).ip);
  setFlash(req, keepOpen ? 'flash.ticket.keptOpen' : 'flash.ticket.keepOpenOff');
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

export function addNote(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'note');
  const form = parseForm(noteSchema, req.body);
  if (!form.ok) {
    renderTicket(req, res, deps, ticket, 422, { errors: form.errors, values: form.values });
    return;
  }
  const messageId = addInternalNote(deps.db, ticket.id, form.data.note, res.locals.user!, requestContext(req));
  setFlash(req, 'flash.ticket.noteAdded');
  redirectAfterPost(res, `${viewUrl('ticket', { id: ticket.id })}#message-${messageId}`);
}
onStaleForm(addNote, staleTicketForm);


