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
import { requestContext } from '../../tickets/service.js';
import type { AppDeps } from '../app.js';
import { parseForm, requiredText, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true')])
  .optional()
  .transform((value) => value !== undefined);

const template = (label: string) => requiredText(label, 255).transform((text) => text.replace(/\s+/g, ' ').trim());

const adminSchema = z.object({
  notify_email: checkbox,
  notify_telegram: checkbox,
  close_on_logout: checkbox,
  template_request: template('The @request echo').refine((text) => text.includes('{message}'), 'The @request echo must contain {message}'),
  template_pm_created: template('The PM confirmation'),
  template_offline: template('The offline answer'),
  template_disabled: template('The disabled answer'),
});

function renderAdmin(req: Request, res: Response, deps: AppDeps, status: number, errors: FieldErrors = {}, values?: Record<string, string>): void {
  const guildId = deps.config.discord.guildId;
  const templates = whisperTemplates(deps.db);
  res.status(status);
  renderPage(req, res, 'admin', {
    title: 'Administration',
    errors,
    switches: notificationSwitches(deps.db),
    guild: guildId ? guildSettings(deps.db, guildId, deps.config.game.closeOnLogoutDefault) : undefined,
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
  inTransaction(deps.db, () => {
    saveNotificationSwitches(deps.db, { email: data.notify_email, telegram: data.notify_telegram });
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
      },
    });
  });
  redirectAfterPost(res, viewUrl('admin', { saved: 1 }));
}
