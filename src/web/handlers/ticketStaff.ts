// What Support does to a ticket from the web besides answering: status, priority, assignee and
// internal notes. The route table lets only staff and admins reach these (actionAccess).
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { MESSAGE_MAX, PRIORITIES, STATUSES } from '../../tickets/model.js';
import { addInternalNote, assignTicket, requestContext, setTicketPriority, setTicketStatus, TicketRuleError } from '../../tickets/service.js';
import { HttpError } from '../errors.js';
import { notifyChannelsOf } from '../../tickets/notifications.js';
import { multilineText, parseForm } from '../forms.js';
import { redirectAfterPost, viewUrl } from '../render.js';
import { loadTicket, renderTicket } from './ticket.js';

const statusSchema = z.object({ status: z.enum(STATUSES, { error: `Status must be one of ${STATUSES.join(', ')}` }) });
const prioritySchema = z.object({ priority: z.enum(PRIORITIES, { error: `Priority must be one of ${PRIORITIES.join(', ')}` }) });
const assignSchema = z.object({
  assignee: z.string({ error: 'Choose who gets the ticket' }).regex(/^(|me|[1-9]\d{0,14})$/, 'Choose a staff member, "me" or nobody'),
});
const noteSchema = z.object({ note: multilineText('Note', MESSAGE_MAX) });

function refuse(errors: Record<string, string>): never {
  throw new HttpError(422, Object.values(errors).join(' '));
}

export function changeStatus(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'status');
  const form = parseForm(statusSchema, req.body);
  if (!form.ok) refuse(form.errors);
  setTicketStatus(deps.db, ticket.id, form.data.status, res.locals.user!, requestContext(req), notifyChannelsOf(deps.config));
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

export function changePriority(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'priority');
  const form = parseForm(prioritySchema, req.body);
  if (!form.ok) refuse(form.errors);
  setTicketPriority(deps.db, ticket.id, form.data.priority, res.locals.user!, requestContext(req));
  redirectAfterPost(res, viewUrl('ticket', { id: ticket.id }));
}

export function assignTicketAction(req: Request, res: Response, deps: AppDeps): void {
  const ticket = loadTicket(req, res, deps, 'assign');
  const form = parseForm(assignSchema, req.body);
  if (!form.ok) refuse(form.errors);
  const user = res.locals.user!;
  const assignee = form.data.assignee === '' ? null : form.data.assignee === 'me' ? user.id : Number(form.data.assignee);
  try {
    assignTicket(deps.db, ticket.id, assignee, user, requestContext(req));
  } catch (err) {
    if (err instanceof TicketRuleError) throw new HttpError(err.status, err.message);
    throw err;
  }
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
  redirectAfterPost(res, `${viewUrl('ticket', { id: ticket.id })}#message-${messageId}`);
}
