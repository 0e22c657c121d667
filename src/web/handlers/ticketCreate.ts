// Seed 000 § Create a ticket: subject, description, optional files; it appears with status open.
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { DEFAULT_PRIORITY, MESSAGE_MAX, PRIORITIES, SUBJECT_MAX } from '../../tickets/model.js';
import { createWebTicket } from '../../tickets/service.js';
import { formValues, multilineText, parseForm, requiredText, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';
import type { UploadError } from '../uploads/errors.js';
import { claimUploads, requestUploads } from '../uploads/middleware.js';

const createSchema = z.object({
  subject: requiredText('Subject', SUBJECT_MAX).transform((s) => s.trim().replace(/\s+/g, ' ')),
  message: multilineText('Message', MESSAGE_MAX),
  priority: z.enum(PRIORITIES, { error: `Priority must be one of ${PRIORITIES.join(', ')}` }).default(DEFAULT_PRIORITY),
});

function renderForm(req: Request, res: Response, deps: AppDeps, status: number, values: Record<string, string>, errors: FieldErrors): void {
  res.status(status);
  renderPage(req, res, 'ticket_create', {
    title: 'Create ticket',
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
    renderForm(req, res, deps, uploadError.status, formValues(req.body), { attachments: uploadError.message });
    return;
  }
  const form = parseForm(createSchema, req.body);
  if (!form.ok) {
    if (requestUploads(req).length > 0) form.errors.attachments = 'Attach your files again: they are not kept while the form has errors.';
    renderForm(req, res, deps, 422, form.values, form.errors);
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
  redirectAfterPost(res, viewUrl('ticket', { id: ticketId }));
}
