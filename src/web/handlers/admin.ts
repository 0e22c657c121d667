// view=admin (admins): notification switches, the Discord guild's close-on-logout, whisper
// texts (empty = the default, in each player's language), and what is configured by environment
// (shown, not editable here). Errors are shown next to their fields (422).
import type { Request, Response } from 'express';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import { inTransaction } from '../../db/index.js';
import { failedNotifications, notificationCounts } from '../../db/notifications.js';
import { guildSettings, setGuildCloseOnLogout } from '../../db/guilds.js';
import type { IntegrationState } from '../../integrations.js';
import { isMessageKey, type MessageKey, type Translator } from '../../i18n/index.js';
import {
  DEFAULT_WHISPER_TEMPLATES,
  notificationSwitches,
  saveNotificationSwitches,
  saveWhisperOverrides,
  adminWhisperTexts,
  type WhisperTemplateName,
  type WhisperTemplates,
} from '../../settings.js';
import { limits, saveLimits, type Limits } from '../../tickets/quotas.js';
import { requestContext } from '../../tickets/service.js';
import type { AppDeps } from '../deps.js';
import { keyedErrors, type KeyedErrors } from '../fieldErrors.js';
import { setFlash } from '../flash.js';
import { parseForm } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true')])
  .optional()
  .transform((value) => value !== undefined);

/** A whisper text: one line; empty (or absent) means the default, in each player's language. */
const template = () =>
  z
    .string({ error: 'admin.error.templateOnce' })
    .transform((text) => text.replace(/\s+/g, ' ').trim())
    .pipe(z.string().max(255, 'admin.error.templateTooLong'))
    .optional();

/** A limit as typed on the admin page: a whole number, 0 for "no limit"; absent keeps the current value. */
const limitField = (tooBig: MessageKey, max: number) =>
  z
    .string({ error: 'admin.error.limitNumber' })
    .trim()
    .regex(/^\d{1,7}$/, 'admin.error.limitNumber')
    .transform(Number)
    .refine((n) => n <= max, tooBig)
    .optional();

const LIMIT_MAX = { tickets: 1000, replies: 1000, uploads: 100_000, mib: 1_000_000 };

const adminSchema = z.object({
  limit_tickets_per_minute: limitField('admin.error.limitTickets', LIMIT_MAX.tickets),
  limit_replies_per_minute: limitField('admin.error.limitReplies', LIMIT_MAX.replies),
  limit_uploads_per_hour: limitField('admin.error.limitUploads', LIMIT_MAX.uploads),
  limit_upload_mib_per_day: limitField('admin.error.limitMib', LIMIT_MAX.mib),
  notify_email: checkbox,
  notify_telegram: checkbox,
  close_on_logout: checkbox,
  template_request: template().refine((text) => !text || text.includes('{message}'), 'admin.error.requestPlaceholder'),
  template_pm_created: template(),
  template_offline: template(),
  template_disabled: template(),
});

const ERROR_PARAMS = {
  'admin.error.limitTickets': { max: LIMIT_MAX.tickets },
  'admin.error.limitReplies': { max: LIMIT_MAX.replies },
  'admin.error.limitUploads': { max: LIMIT_MAX.uploads },
  'admin.error.limitMib': { max: LIMIT_MAX.mib },
  'admin.error.templateTooLong': { count: 255 },
};

/** The whisper texts' form fields (names kept), their stored names and what each is for. */
const WHISPERS: [string, WhisperTemplateName, MessageKey][] = [
  ['template_request', 'request', 'admin.whispers.request'],
  ['template_pm_created', 'pmCreated', 'admin.whispers.pmCreated'],
  ['template_offline', 'offline', 'admin.whispers.offline'],
  ['template_disabled', 'disabled', 'admin.whispers.disabled'],
];

const INTEGRATIONS: Record<string, { label: MessageKey; off: MessageKey; ready?: MessageKey }> = {
  gameApi: { label: 'admin.integration.gameApi', off: 'admin.integration.gameApiOff' },
  discord: { label: 'admin.integration.discord', off: 'admin.integration.discordOff' },
  email: { label: 'admin.integration.email', off: 'admin.integration.emailOff', ready: 'admin.integration.switchedAbove' },
  telegram: { label: 'admin.integration.telegram', off: 'admin.integration.telegramOff', ready: 'admin.integration.switchedAbove' },
};

/** The optional integrations in plain words; a failure's own text (from Discord) shown as it came. */
function integrationLines(i18n: Translator, states: Record<string, IntegrationState>) {
  return Object.entries(states).map(([name, s]) => {
    const known = INTEGRATIONS[name];
    const note = s.state === 'off' && known ? i18n.t(known.off) : s.state === 'ready' && known?.ready ? i18n.t(known.ready) : '';
    return {
      name,
      label: known ? i18n.t(known.label) : name,
      state: s.state,
      stateLabel: i18n.t(`admin.integration.state.${s.state}`),
      note,
      detail: known && s.state !== 'down' ? undefined : s.detail,
    };
  });
}

const labelOr = (i18n: Translator, key: string, fallback: string) => (isMessageKey(key) ? i18n.t(key) : fallback);

const MIB = 1024 * 1024;

function limitsForForm(current: Limits): Record<string, string> {
  return {
    ticketsPerMinute: String(current.ticketsPerMinute),
    repliesPerMinute: String(current.repliesPerMinute),
    uploadsPerHour: String(current.uploadsPerHour),
    uploadMibPerDay: String(Math.round((current.uploadBytesPerDay / MIB) * 10) / 10),
  };
}

function renderAdmin(req: Request, res: Response, deps: AppDeps, status: number, errors: KeyedErrors = {}, values?: Record<string, string>): void {
  const guildId = deps.config.discord.guildId;
  const overrides = adminWhisperTexts(deps.db);
  const i18n = res.locals.i18n as Translator;
  res.status(status);
  renderPage(req, res, 'admin', {
    title: i18n.t('admin.title'),
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
    whispers: WHISPERS.map(([name, stored, label]) => ({
      name,
      label: i18n.t(label),
      value: values ? (values[name] ?? '') : (overrides[stored] ?? ''),
      default: DEFAULT_WHISPER_TEMPLATES[stored],
      overridden: overrides[stored] !== undefined,
    })),
    config: deps.config,
    integrations: integrationLines(i18n, deps.integrations()),
    notificationCounts: notificationCounts(deps.db),
    failedNotifications: failedNotifications(deps.db, 20).map((f) => ({
      ...f,
      channelLabel: labelOr(i18n, `admin.outbox.channel.${f.channel}`, f.channel),
      eventLabel: labelOr(i18n, `admin.outbox.event.${f.event}`, f.event),
    })),
  });
}

export function adminPage(req: Request, res: Response, deps: AppDeps): void {
  renderAdmin(req, res, deps, 200);
}

export function saveAdminSettings(req: Request, res: Response, deps: AppDeps): void {
  const form = parseForm(adminSchema, req.body);
  if (!form.ok) {
    renderAdmin(req, res, deps, 422, keyedErrors(form.errors, ERROR_PARAMS), form.values);
    return;
  }
  const data = form.data;
  const guildId = deps.config.discord.guildId;
  const before = { switches: notificationSwitches(deps.db), templates: adminWhisperTexts(deps.db), guild: guildId ? guildSettings(deps.db, guildId, deps.config.game.closeOnLogoutDefault) : undefined };
  // Only the texts an admin wrote are kept; an empty field (or seed 002's English as it stands) is
  // the default again, which each player gets in their own language.
  const typed: WhisperTemplates = {
    request: data.template_request ?? '',
    pmCreated: data.template_pm_created ?? '',
    offline: data.template_offline ?? '',
    disabled: data.template_disabled ?? '',
  };
  const templates: Partial<WhisperTemplates> = {};
  for (const [, name] of WHISPERS) if (typed[name] && typed[name] !== DEFAULT_WHISPER_TEMPLATES[name]) templates[name] = typed[name];
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
    saveWhisperOverrides(deps.db, templates);
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
  setFlash(req, 'admin.flash.saved');
  redirectAfterPost(res, viewUrl('admin'));
}
