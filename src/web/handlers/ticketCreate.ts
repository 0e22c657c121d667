// Seed 000 § Create a ticket: subject, description, optional files; it appears with status open.
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { message, type Message, type Translator } from '../../i18n/index.js';
import { onStaleForm } from '../staleForms.js';
import { DEFAULT_PRIORITY, MESSAGE_MAX, PRIORITIES, SUBJECT_MAX } from '../../tickets/model.js';
import { createWebTicket } from '../../tickets/service.js';
import { setFlash } from '../flash.js';
import { formValues, multilineText, parseForm, requiredText } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';
import type { UploadError } from '../uploads/errors.js';
import { claimUploads, requestUploads } from '../uploads/middleware.js';

const createSchema = z.object({
  subject: requiredText(SUBJECT_MAX, { required: 'ticketCreate.error.subjectRequired', tooLong: 'ticketCreate.error.subjectTooLong' }).transform((s) => s.trim().replace(/\s+/g, ' ')),
  message: multilineText(MESSAGE_MAX, { required: 'ticketCreate.error.messageRequired', tooLong: 'ticketCreate.error.messageTooLong' }),
  priority: z.enum(PRIORITIES, { error: 'ticketCreate.error.priority' }).default(DEFAULT_PRIORITY),
});

type CreateErrors = Record<string, Message | string>;

function renderForm(req: Request, res: Response, deps: AppDeps, status: number, values: Record<string, string>, errors: CreateErrors, error?: Message): void {
  res.status(status);
  renderPage(req, res, 'ticket_create', {
    ...(error ? { error } : {}),
    title: (res.locals.i18n as Translator).t('ticketCreate.title'),
    values: { subject: '', message: '', priority: DEFAULT_PRIORITY, ...values },
    errors,
    priorities: PRIORITIES,
    limits: deps.config.uploads,
  });
}

export function ticketCreateForm(req: Request, res: Response, deps: AppDeps): void {
  renderForm(req, res, deps, 200, {}, {});
}

export function createTicket(req: Request, res: Response, deps: AppDeps): void {
  const uploadError = res.locals.uploadError as UploadError | undefined;
  if (uploadError) {
    renderForm(req, res, deps, uploadError.status, formValues(req.body), { attachments: uploadError.publicMessage });
    return;
  }
  const form = parseForm(createSchema, req.body);
  if (!form.ok) {
    const errors = form.errors;
    if (requestUploads(req).length > 0) errors.attachments = message('ticketCreate.error.attachAgain');
    renderForm(req, res, deps, 422, form.values, errors);
    return;
  }
  const ticketId = createWebTicket(
    deps.db,
    {
      user: res.locals.user!,
      subject: form.data.subject,
      body: form.data.message,
      priority: form.data.priority,
      uploads: requestUploads(req),
      // DISCORD_WEB_TICKETS: the ticket also gets a private channel (src/config.ts allows it only with the bridge configured).
      discordGuildId: deps.config.discord.webTickets ? (deps.config.discord.guildId ?? null) : null,
    },
    { ip: req.ip ?? null },
  );
  claimUploads(req);
  // The id as text: a ticket number is not formatted like a quantity ("#1234", not "#1,234").
  setFlash(req, 'tickets.created', { id: String(ticketId) });
  redirectAfterPost(res, viewUrl('ticket', { id: ticketId }));
}

/**
 * The create form sent with a stale token (issue #16: typed text survives it): the form again with
 * what was typed, a fresh token and a line saying so; nothing is stored (the dispatcher answers 403
 * and removes any uploaded files).
 */
function staleCreateForm(req: Request, res: Response, deps: AppDeps): void {
  const values = formValues(req.body);
  const errors: CreateErrors = requestUploads(req).length > 0 ? { attachments: message('ticketCreate.error.attachAgain') } : {};
  renderForm(req, res, deps, 403, { subject: values.subject ?? '', message: values.message ?? '', ...(values.priority ? { priority: values.priority } : {}) }, errors, message('form.expired'));
}
onStaleForm(createTicket, staleCreateForm);
