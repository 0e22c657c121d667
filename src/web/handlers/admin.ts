// view=admin (admins): notification switches, the Discord guild's close-on-logout, whisper
// templates, and what is configured by environment (shown, not editable here).
import type { Request, Response } from 'express';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import { inTransaction } from '../../db/index.js';
import { failedNotifications, notificationCounts } from '../../db/notifications.js';
import { guildSettings, setGuildCloseOnLogout } from '../../db/guilds.js';
import {
  DEFAULT_WHISPER_TEMPLATES,
  notificationSwitches,
  saveNotificationSwitches,
  saveWhisperTemplates,
  whisperTemplates,
  type WhisperTemplates,
} from '../../settings.js';
import { limits, saveLimits, type Limits } from '../../tickets/quotas.js';
import { requestContext } from '../../tickets/service.js';
import type { AppDeps } from '../deps.js';
import { parseForm, requiredText, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true')])
  .optional()
  .transform((value) => value !== undefined);

const template = (label: string) => requiredText(label, 255).transform((text) => text.replace(/\s+/g, ' ').trim());

/** A limit as typed on the admin page: a whole number, 0 for "no limit"; absent keeps the current value. */
const limitField = (label: string, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,7}$/, `${label} must be a whole number (0 for no limit)`)
    .transform(Number)
    .refine((n) => n <= max, `${label} must be at most ${max}`)
    .optional();

const adminSchema = z.object({
  limit_tickets_per_minute: limitField('Tickets a minute', 1000),
  limit_replies_per_minute: limitField('Replies a minute', 1000),
  limit_uploads_per_hour: limitField('Files an hour', 100_000),
  limit_upload_mib_per_day: limitField('MiB of files a day', 1_000_000),
  notify_email: checkbox,
  notify_telegram: checkbox,
  close_on_logout: checkbox,
  template_request: template('The @request echo').refine((text) => text.includes('{message}'), 'The @request echo must contain {message}'),
  template_pm_created: template('The PM confirmation'),
  template_offline: template('The offline answer'),
  template_disabled: template('The disabled answer'),
});

const MIB = 1024 * 1024;

function limitsForForm(current: Limits): Record<string, string> {
  return {
    ticketsPerMinute: String(current.ticketsPerMinute),
    repliesPerMinute: String(current.repliesPerMinute),
    uploadsPerHour: String(current.uploadsPerHour),
    uploadMibPerDay: String(Math.round((current.uploadBytesPerDay / MIB) * 10) / 10),
  };
}

function renderAdmin(req: Request, res: Response, deps: AppDeps, status: number, errors: FieldErrors = {}, values?: Record<string, string>): void {
  const guildId = deps.config.discord.guildId;
  const templates = whisperTemplates(deps.db);
  res.status(status);
  renderPage(req, res, 'admin', {
    title: 'Administration',
    errors,
    switches: notificationSwitches(deps.db),
    guild: guildId ? guildSettings(deps.db, guildId, deps.config.game.closeOnLogoutDefault) : undefined,
    limits: values
      ? {
          ticketsPerMinute: values.limit_tickets_per_minute ?? '',
          repliesPerMinute: values.limit_replies_per_minute ?? '',
          uploadsPerHour: values.limit_uploads_per_hour ?? '',
          uploadMibPerDay: values.limit_upload_mib_per_day ?? '',
        }
      : limitsForForm(limits(deps.db)),
    templates: values
      ? { request: values.template_request ?? '', pmCreated: values.template_pm_created ?? '', offline: values.template_offline ?? '', disabled: values.template_disabled ?? '' }
      : templates,
    defaults: DEFAULT_WHISPER_TEMPLATES,
    config: deps.config,
    integrations: deps.integrations(),
    notificationCounts: notificationCounts(deps.db),
    failedNotifications: failedNotifications(deps.db, 20),
    saved: req.query.saved === '1',
  });
}

export function adminPage(req: Request, res: Response, deps: AppDeps): void {
  renderAdmin(req, res, deps, 200);
}

export function saveAdminSettings(req: Request, res: Response, deps: AppDeps): void {
  const form = parseForm(adminSchema, req.body);
  if (!form.ok) {
    renderAdmin(req, res, deps, 422, form.errors, form.values);
    return;
  }
  const data = form.data;
  const guildId = deps.config.discord.guildId;
  const before = { switches: notificationSwitches(deps.db), templates: whisperTemplates(deps.db), guild: guildId ? guildSettings(deps.db, guildId, deps.config.game.closeOnLogoutDefault) : undefined };
  const templates: WhisperTemplates = {
    request: data.template_request,
    pmCreated: data.template_pm_created,
    offline: data.template_offline,
    disabled: data.template_disabled,
  };
  const admin = res.locals.user!;
  const limitsBefore = limits(deps.db);
  const limitsAfter: Limits = {
    ticketsPerMinute: data.limit_tickets_per_minute ?? limitsBefore.ticketsPerMinute,
    repliesPerMinute: data.limit_replies_per_minute ?? limitsBefore.repliesPerMinute,
    uploadsPerHour: data.limit_uploads_per_hour ?? limitsBefore.uploadsPerHour,
    uploadBytesPerDay: data.limit_upload_mib_per_day === undefined ? limitsBefore.uploadBytesPerDay : data.limit_upload_mib_per_day * MIB,
  };
  inTransaction(deps.db, () => {
    saveNotificationSwitches(deps.db, { email: data.notify_email, telegram: data.notify_telegram });
    saveLimits(deps.db, limitsAfter);
    saveWhisperTemplates(deps.db, templates);
    if (guildId) setGuildCloseOnLogout(deps.db, guildId, data.close_on_logout, deps.config.game.closeOnLogoutDefault);
    recordAudit(deps.db, {
      actor: { id: admin.id, name: admin.username },
      action: 'admin.settings',
      ip: requestContext(req).ip,
      details: {
        notifications: { from: before.switches, to: { email: data.notify_email, telegram: data.notify_telegram } },
        ...(guildId ? { ticketCloseOnLogout: { from: before.guild?.ticketCloseOnLogout, to: data.close_on_logout } } : {}),
        templatesChanged: JSON.stringify(before.templates) !== JSON.stringify(templates),
        ...(JSON.stringify(limitsBefore) !== JSON.stringify(limitsAfter) ? { limits: { from: limitsBefore, to: limitsAfter } } : {}),
      },
    });
  });
  redirectAfterPost(res, viewUrl('admin', { saved: 1 }));
}
