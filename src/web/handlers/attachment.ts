// Seed 000 § Security & privacy: "File downloads are allowed only for the owner and only within
// the ticket." Served as a download, never rendered by the browser.
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { recordAudit } from '../../audit.js';
import { ticketAttachment } from '../../db/attachments.js';
import { isStaff, requestContext } from '../../tickets/service.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { idParam, loadTicket } from './ticket.js';

/** RFC 6266 / RFC 5987: an ASCII fallback plus the exact UTF-8 name. */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export function downloadAttachment(req: Request, res: Response, deps: AppDeps): void {
  const user = res.locals.user!;
  const ticket = loadTicket(req, res, deps, 'download', 'ticket');
  const attachmentId = idParam(req, 'id');
  const attachment = ticketAttachment(deps.db, ticket.id, attachmentId, isStaff(user));
  if (!attachment) {
    deps.refusals.record({
      actor: { id: user.id, name: user.username },
      action: 'attachment.access_refused',
      ticketId: ticket.id,
      ip: requestContext(req).ip,
      details: { requestedId: attachmentId },
    });
    throw notFound('attachment.notFound');
  }
  const file = path.join(deps.config.uploadsDir, attachment.storageName);
  if (!fs.existsSync(file)) {
    deps.logger.error({ attachmentId: attachment.id, file }, 'attachment file is missing');
    throw notFound('attachment.gone');
  }
  recordAudit(deps.db, {
    actor: { id: user.id, name: user.username },
    action: 'attachment.download',
    ticketId: ticket.id,
    ip: requestContext(req).ip,
    details: { attachmentId: attachment.id },
  });
  res.set({
    'Content-Type': attachment.contentType,
    'Content-Length': String(attachment.sizeBytes),
    'Content-Disposition': contentDisposition(attachment.originalName),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'private, no-store',
  });
  fs.createReadStream(file)
    .on('error', (err) => {
      deps.logger.error({ err, attachmentId: attachment.id }, 'attachment read failed');
      res.destroy(err);
    })
    .pipe(res);
}
