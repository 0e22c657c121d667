// view=admin (admins): notification switches, the Discord guild's close-on-logout, whisper
// texts (empty = the default, in each player's language), and what is configured by environment
// (shown, not editable here). Errors are shown next to their fields (422).
import type { Request, Response } from 'express';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import { inTransaction } from '../../db/index.js';
import { failedNotifications, notificationCounts } from '../../db/notifications.js';
import { guildSettings, setGuildCloseOnLogout } from '../../db/guilds.js';
import path from 'node:path';
import { isMessageKey, message, type Message, type MessageKey, type Translator } from '../../i18n/index.js';
import {
  DEFAULT_WHISPER_TEMPLATES,
  notificationSwitches,
  saveNotificationSwitches,
  saveWhisperOverrides,
  adminWhisperTexts,
  saveStaleDays,
  staleDays,
  STALE_DAYS_MAX,
  closeWhisper,
  saveCloseWhisper,
  type WhisperTemplateName,
  type WhisperTemplates,
} from '../../settings.js';
import { limits, saveLimits, type Limits } from '../../tickets/quotas.js';
import { requestContext } from '../../tickets/service.js';
import { splitWhisper } from '../../tickets/whispers.js';
import { backupPanel, canSendTest, firstStartChecklist, integrationCards, testDefaults, type TestChannel } from '../adminPanel.js';
import type { AppDeps } from '../deps.js';
import { setFlash } from '../flash.js';
import { parseForm, zodMessage, type FieldErrors } from '../forms.js';
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
    .pipe(z.string().max(255, zodMessage('admin.error.templateTooLong', { count: 255 })))
    .optional();

/** A limit as typed on the admin page: a whole number, 0 for "no limit"; absent keeps the current value. */
const limitField = (tooBigKey: MessageKey, max: number) =>
  z
    .string({ error: 'admin.error.limitNumber' })
    .trim()
    .regex(/^\d{1,7}$/, 'admin.error.limitNumber')
    .transform(Number)
    .refine((n) => n <= max, zodMessage(tooBigKey, { max }))
    .optional();

const STALE_DAYS_ERROR = zodMessage('admin.error.staleDays', { max: STALE_DAYS_MAX });
const LIMIT_MAX = { tickets: 1000, replies: 1000, uploads: 100_000, mib: 1_000_000 };

const adminSchema = z.object({
  limit_tickets_per_minute: limitField('admin.error.limitTickets', LIMIT_MAX.tickets),
  limit_replies_per_minute: limitField('admin.error.limitReplies', LIMIT_MAX.replies),
  limit_uploads_per_hour: limitField('admin.error.limitUploads', LIMIT_MAX.uploads),
  limit_upload_mib_per_day: limitField('admin.error.limitMib', LIMIT_MAX.mib),
  // Issue #18: close tickets waiting on the player after N days (0: never); absent keeps the current value.
  stale_days: z
    .string({ error: STALE_DAYS_ERROR })
    .trim()
    .regex(/^\d{1,3}$/, STALE_DAYS_ERROR)
    .transform(Number)
    .refine((n) => n <= STALE_DAYS_MAX, STALE_DAYS_ERROR)
    .optional(),
  notify_email: checkbox,
  notify_telegram: checkbox,
  close_on_logout: checkbox,
  template_request: template().refine((text) => !text || text.includes('{message}'), 'admin.error.requestPlaceholder'),
  template_pm_created: template(),
  template_offline: template(),
  template_disabled: template(),
  // Whispered as written when a game ticket is closed; empty: none (issue #18).
  template_closed: template(),
});

/** The whisper texts' form fields (names kept), their stored names and what each is for. */
const WHISPERS: [string, WhisperTemplateName, MessageKey][] = [
  ['template_request', 'request', 'admin.whispers.request'],
  ['template_pm_created', 'pmCreated', 'admin.whispers.pmCreated'],
  ['template_offline', 'offline', 'admin.whispers.offline'],
  ['template_disabled', 'disabled', 'admin.whispers.disabled'],
];

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

/** Errors and typed values of the panel's forms (a refused test message), shown next to them. */
interface PanelForm {
  errors?: Partial<Record<'test_email' | 'test_telegram' | 'backup' | 'recheck', Message>>;
  values?: { email?: string; telegram?: string };
}

function renderAdmin(req: Request, res: Response, deps: AppDeps, status: number, errors: FieldErrors = {}, values?: Record<string, string>, panel: PanelForm = {}): void {
  const guildId = deps.config.discord.guildId;
  const states = deps.integrations();
  const defaults = testDefaults(deps.db, res.locals.user!);
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
    staleDays: values ? (values.stale_days ?? '') : String(staleDays(deps.db)),
    whispers: WHISPERS.map(([name, stored, label]) => ({
      name,
      label: i18n.t(label),
      value: values ? (values[name] ?? '') : (overrides[stored] ?? ''),
      default: DEFAULT_WHISPER_TEMPLATES[stored],
      overridden: overrides[stored] !== undefined,
    })),
    closeWhisper: values ? (values.template_closed ?? '') : (closeWhisper(deps.db)?.text ?? ''),
    config: deps.config,
    integrations: integrationCards(i18n, states),
    canTest: { email: canSendTest(deps, 'email'), telegram: canSendTest(deps, 'telegram') },
    testValues: { email: panel.values?.email ?? defaults.email, telegram: panel.values?.telegram ?? defaults.telegram },
    panelErrors: Object.fromEntries(Object.entries(panel.errors ?? {}).map(([k, m]) => [k, i18n.text(m)])),
    backup: backupPanel(deps),
    checklist: firstStartChecklist(deps.db, states),
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
    renderAdmin(req, res, deps, 422, form.errors, form.values);
    return;
  }
  const data = form.data;
  const guildId = deps.config.discord.guildId;
  const before = { switches: notificationSwitches(deps.db), templates: adminWhisperTexts(deps.db), closeWhisper: closeWhisper(deps.db)?.text ?? '', guild: guildId ? guildSettings(deps.db, guildId, deps.config.game.closeOnLogoutDefault) : undefined };
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
  const staleBefore = staleDays(deps.db);
  const staleAfter = data.stale_days ?? staleBefore;
  inTransaction(deps.db, () => {
    saveStaleDays(deps.db, staleAfter);
    saveNotificationSwitches(deps.db, { email: data.notify_email, telegram: data.notify_telegram });
    saveLimits(deps.db, limitsAfter);
    saveWhisperOverrides(deps.db, templates);
    // Fit to the game's code page and split to GAME_WHISPER_MAX now, as Support's answers are when queued.
    const closedText = data.template_closed ?? '';
    saveCloseWhisper(deps.db, closedText ? { text: closedText, lines: splitWhisper(closedText, deps.config.game.whisperMax, deps.config.game.textEncoding) } : undefined);
    if (guildId) setGuildCloseOnLogout(deps.db, guildId, data.close_on_logout, deps.config.game.closeOnLogoutDefault);
    recordAudit(deps.db, {
      actor: { id: admin.id, name: admin.username },
      action: 'admin.settings',
      ip: requestContext(req).ip,
      details: {
        notifications: { from: before.switches, to: { email: data.notify_email, telegram: data.notify_telegram } },
        ...(guildId ? { ticketCloseOnLogout: { from: before.guild?.ticketCloseOnLogout, to: data.close_on_logout } } : {}),
        templatesChanged: JSON.stringify(before.templates) !== JSON.stringify(templates) || before.closeWhisper !== (data.template_closed ?? ''),
        ...(JSON.stringify(limitsBefore) !== JSON.stringify(limitsAfter) ? { limits: { from: limitsBefore, to: limitsAfter } } : {}),
        ...(staleBefore !== staleAfter ? { staleDays: { from: staleBefore, to: staleAfter } } : {}),
      },
    });
  });
  setFlash(req, 'admin.flash.saved');
  redirectAfterPost(res, viewUrl('admin'));
}

// ---------------------------------------------------------------------------------------------
// The panel's actions: check Discord's setup again, send a test message, back up now. Each is
// audited when it did something; a refusal (the integration is off, too many tests) is shown on
// the page next to its button and stores nothing.

function auditAdmin(req: Request, res: Response, deps: AppDeps, action: string, details: Record<string, unknown>): void {
  const admin = res.locals.user!;
  recordAudit(deps.db, { actor: { id: admin.id, name: admin.username }, action, ip: requestContext(req).ip, details });
}

export async function recheckAction(req: Request, res: Response, deps: AppDeps): Promise<void> {
  const form = parseForm(z.object({}), req.body);
  if (!form.ok) {
    renderAdmin(req, res, deps, 422);
    return;
  }
  let failed: string | undefined;
  try {
    await deps.recheckIntegrations();
  } catch (err) {
    failed = (err as Error).message || String(err);
  }
  const discord = deps.integrations().discord;
  auditAdmin(req, res, deps, 'admin.integrations_check', { discord: discord?.state ?? 'off', problems: discord?.problems?.length ?? 0, ...(failed ? { error: failed } : {}) });
  if (failed) setFlash(req, 'admin.flash.recheckFailed', { error: failed }, 'error');
  else if (!discord || discord.state === 'off') setFlash(req, 'admin.flash.recheckedOff');
  else if (discord.problems?.length) setFlash(req, 'admin.flash.recheckedProblems', { count: discord.problems.length }, 'error');
  else setFlash(req, 'admin.flash.rechecked', { state: (res.locals.i18n as Translator).t(`admin.integration.state.${discord.state}`) });
  redirectAfterPost(res, `${viewUrl('admin')}#integration-discord`);
}

const testSchemas = {
  email: z.object({ to: z.string({ error: 'admin.test.addressInvalid' }).trim().max(254, 'admin.test.addressInvalid').pipe(z.email('admin.test.addressInvalid')) }),
  telegram: z.object({ to: z.string({ error: 'admin.test.chatInvalid' }).trim().regex(/^-?\d{1,20}$/, 'admin.test.chatInvalid') }),
};

async function testAction(req: Request, res: Response, deps: AppDeps, channel: TestChannel): Promise<void> {
  const field = channel === 'email' ? 'test_email' : 'test_telegram';
  const typed = typeof req.body?.to === 'string' ? (req.body.to as string).slice(0, 300) : '';
  const refuse = (status: number, error: Message) => renderAdmin(req, res, deps, status, {}, undefined, { errors: { [field]: error }, values: { [channel]: typed } });
  if (!canSendTest(deps, channel)) {
    refuse(422, message(channel === 'email' ? 'admin.test.emailOff' : 'admin.test.telegramOff'));
    return;
  }
  const form = parseForm(testSchemas[channel], req.body);
  if (!form.ok) {
    refuse(422, form.errors.to ?? message('form.invalid'));
    return;
  }
  const admin = res.locals.user!;
  const key = String(admin.id);
  if (deps.limiters.adminTests.blocked(key)) {
    res.setHeader('Retry-After', '60');
    refuse(429, message('admin.test.tooMany', { count: deps.limiters.adminTests.limit }));
    return;
  }
  deps.limiters.adminTests.fail(key);
  const to = form.data.to;
  const result = await deps.sendTestNotification!(channel, to);
  auditAdmin(req, res, deps, 'admin.test_notification', { channel, to, ok: result.ok, ...(result.ok ? {} : { error: result.error }) });
  if (result.ok) setFlash(req, channel === 'email' ? 'admin.flash.testEmailSent' : 'admin.flash.testTelegramSent', { to });
  else setFlash(req, 'admin.flash.testFailed', { to, error: oneSentence(result.error) }, 'error');
  redirectAfterPost(res, `${viewUrl('admin')}#integration-${channel}`);
}

/** An error as one short sentence: its first line, at most 300 characters. */
function oneSentence(text: string): string {
  const line = text.split(/\r?\n/)[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

export const testEmailAction = (req: Request, res: Response, deps: AppDeps) => testAction(req, res, deps, 'email');
export const testTelegramAction = (req: Request, res: Response, deps: AppDeps) => testAction(req, res, deps, 'telegram');

/** How long "Back up now" waits for the archive before answering (a big desk goes on in the background). */
const BACKUP_WAIT_MS = 20_000;

export async function backupAction(req: Request, res: Response, deps: AppDeps): Promise<void> {
  const form = parseForm(z.object({}), req.body);
  if (!form.ok) {
    renderAdmin(req, res, deps, 422);
    return;
  }
  if (!deps.backups) {
    renderAdmin(req, res, deps, 422, {}, undefined, { errors: { backup: message(deps.config.backup.dir ? 'admin.backup.notRunning' : 'admin.backup.offRefused') } });
    return;
  }
  const wasRunning = deps.backups.running();
  const run = deps.backups.runNow();
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([run, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BACKUP_WAIT_MS)))]);
  clearTimeout(timer);
  auditAdmin(req, res, deps, 'admin.backup', result ? { ok: result.ok, ...(result.ok ? { file: path.basename(result.file), bytes: result.bytes } : { error: result.error }) } : { started: true, joined: wasRunning });
  if (!result) setFlash(req, 'admin.flash.backupStarted');
  else if (result.ok) setFlash(req, 'admin.flash.backupDone', { name: path.basename(result.file), size: (res.locals.i18n as Translator).bytes(result.bytes) });
  else setFlash(req, 'admin.flash.backupFailed', { error: oneSentence(result.error) }, 'error');
  redirectAfterPost(res, `${viewUrl('admin')}#backups`);
}
