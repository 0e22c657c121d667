// view=settings: the account's language, the player's email (confirmed by a link before any mail is
// sent to it), Telegram link, notification choices and password. view=verify_email: the
// confirmation link.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { changePassword, createTelegramLinkCode, tokenHash } from '../../accounts.js';
import { recordAudit } from '../../audit.js';
import { inTransaction } from '../../db/index.js';
import { consumeUserToken, enqueueNotification, insertUserToken, payloadTokensSince, retireUserTokens, userTokensSince } from '../../db/notifications.js';
import { markEmailVerified, notificationProfile, setNotificationChoices, setTelegramChat, setUserEmail, setUserLocale, type NotificationProfile } from '../../db/users.js';
import { LOCALES, localeName, message, type Translator } from '../../i18n/index.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from '../../passwords.js';
import { notificationSwitches } from '../../settings.js';
import { requestContext } from '../../tickets/service.js';
import { recheckAccount } from '../access.js';
import type { AppDeps } from '../deps.js';
import { param } from '../params.js';
import { parseForm, zodMessage, type FieldErrors } from '../forms.js';
import { HttpError } from '../errors.js';
import { setFlash } from '../flash.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const VERIFY_LIFETIME_MS = 24 * 60 * 60_000;

/**
 * Confirmation mails (issue #12): a player may ask for 5 an hour, and one address gets at most 3 a
 * day whoever asks, so the form cannot be used to send mail to strangers.
 */
export const CONFIRMATION_MAILS = { perAccountPerHour: 5, perAddressPerDay: 3 };

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true')])
  .optional()
  .transform((value) => value !== undefined);
const emailSchema = z.object({ email: z.union([z.literal(''), z.email('settings.error.email').max(254, 'settings.error.email')], { error: 'settings.error.email' }) });
const choicesSchema = z.object({ notify_email: checkbox, notify_telegram: checkbox });
const localeSchema = z.object({ locale: z.union([z.literal(''), z.enum(LOCALES as [string, ...string[]])], { error: 'settings.error.locale' }) });
/** A new password as the account rules take it (src/accounts.ts), with the limits in its messages. */
export const newPasswordField = () =>
  z
    .string({ error: zodMessage('account.error.passwordTooShort', { count: PASSWORD_MIN_LENGTH }) })
    .min(PASSWORD_MIN_LENGTH, zodMessage('account.error.passwordTooShort', { count: PASSWORD_MIN_LENGTH }))
    .max(PASSWORD_MAX_LENGTH, zodMessage('account.error.passwordTooLong', { count: PASSWORD_MAX_LENGTH }));

const passwordFormSchema = z
  .object({
    current_password: z.string({ error: 'settings.error.currentMissing' }).min(1, 'settings.error.currentMissing'),
    new_password: newPasswordField(),
    confirm_password: z.string({ error: 'settings.error.mismatch' }),
  })
  .refine((f) => f.new_password === f.confirm_password, { path: ['confirm_password'], message: 'settings.error.mismatch' });


/** The fields in the order the page shows them, for the error summary at the top. */
const FIELDS: [string, Parameters<Translator['t']>[0]][] = [
  ['locale', 'settings.language.label'],
  ['email', 'settings.email.label'],
  ['telegram', 'settings.telegram.title'],
  ['current_password', 'settings.password.current'],
  ['new_password', 'settings.password.new'],
  ['confirm_password', 'settings.password.again'],
];

interface SettingsLocals {
  errors?: FieldErrors;
  telegramLink?: string;
}

/**
 * Which notification channels this player can choose: the channel must be set up on this server
 * and switched on by an admin (else no mail or message is ever sent), and the player must have a
 * confirmed address or a linked chat (else there is nowhere to send it).
 */
export function channelStates(deps: AppDeps, profile: NotificationProfile) {
  const switches = notificationSwitches(deps.db);
  const emailOn = deps.config.mail.smtpUrl !== undefined && switches.email;
  const telegramOn = deps.config.telegram.botToken !== undefined && switches.telegram;
  return {
    emailOn,
    telegramOn,
    telegramConfigured: deps.config.telegram.botToken !== undefined,
    emailReady: profile.email !== null && profile.emailVerifiedAt !== null,
    telegramReady: profile.telegramChatId !== null,
  };
}

function renderSettings(req: Request, res: Response, deps: AppDeps, status = 200, locals: SettingsLocals = {}): void {
  const user = res.locals.user!;
  const profile = notificationProfile(deps.db, user.id)!;
  const i18n = res.locals.i18n as Translator;
  const errors = locals.errors ?? {};
  res.status(status);
  renderPage(req, res, 'settings', {
    title: i18n.t('settings.title'),
    profile,
    accountLocale: user.locale,
    passwordMin: PASSWORD_MIN_LENGTH,
    channels: channelStates(deps, profile),
    errors,
    summary: FIELDS.filter(([field]) => errors[field] !== undefined).map(([field, label]) => ({ field, label: i18n.t(label) })),
    telegramLink: locals.telegramLink,
  });
}

export function settingsPage(req: Request, res: Response, deps: AppDeps): void {
  renderSettings(req, res, deps);
}

function audit(deps: AppDeps, req: Request, res: Response, action: string, details?: Record<string, unknown>): void {
  const user = res.locals.user!;
  recordAudit(deps.db, { actor: { id: user.id, name: user.username }, action, ip: requestContext(req).ip, ...(details ? { details } : {}) });
}

export const settingsAction = {
  email(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(emailSchema, req.body);
    if (!form.ok) {
      renderSettings(req, res, deps, 422, { errors: form.errors });
      return;
    }
    const user = res.locals.user!;
    const email = form.data.email.trim() || null;
    const now = Date.now();
    // Seed 000: email is used only "if enabled by administrator"; no switch, no mail.
    const mailing = email !== null && deps.config.mail.smtpUrl !== undefined && notificationSwitches(deps.db).email;
    if (mailing) {
      const tooMany =
        userTokensSince(deps.db, user.id, 'email_verify', now - 60 * 60_000) >= CONFIRMATION_MAILS.perAccountPerHour ||
        payloadTokensSince(deps.db, 'email_verify', email, now - 24 * 60 * 60_000) >= CONFIRMATION_MAILS.perAddressPerDay;
      if (tooMany) {
        audit(deps, req, res, 'user.email_refused', { email, reason: 'confirmation mail limit' });
        renderSettings(req, res, deps, 429, { errors: { email: message('settings.error.tooManyMails') } });
        return;
      }
    }
    inTransaction(deps.db, () => {
      setUserEmail(deps.db, user.id, email, now);
      retireUserTokens(deps.db, user.id, 'email_verify', now);
      if (mailing) {
        const token = randomBytes(24).toString('base64url');
        insertUserToken(deps.db, { userId: user.id, purpose: 'email_verify', tokenHash: tokenHash(token), payload: email, expiresAt: now + VERIFY_LIFETIME_MS, now });
        const link = `${deps.config.appUrl}${viewUrl('verify_email', { token })}`;
        enqueueNotification(deps.db, { userId: user.id, ticketId: null, channel: 'email', event: 'verify_email', payload: { email, link }, dedupeKey: `verify_email:${tokenHash(token)}`, now });
      }
      audit(deps, req, res, 'user.email', { email });
    });
    setFlash(req, mailing ? 'settings.flash.emailSent' : email ? 'settings.flash.emailNoMail' : 'settings.flash.emailRemoved');
    redirectAfterPost(res, viewUrl('settings'));
  },

  language(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(localeSchema, req.body);
    if (!form.ok) {
      renderSettings(req, res, deps, 422, { errors: form.errors });
      return;
    }
    const user = res.locals.user!;
    const locale = form.data.locale || null;
    setUserLocale(deps.db, user.id, locale);
    audit(deps, req, res, 'user.locale', { from: user.locale, to: locale });
    // Put into words on the next page, which is already in the new language.
    if (locale) setFlash(req, 'settings.flash.language', { language: localeName(locale) });
    else setFlash(req, 'settings.flash.languageBrowser');
    redirectAfterPost(res, viewUrl('settings'));
  },

  notifications(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(choicesSchema, req.body);
    if (!form.ok) {
      renderSettings(req, res, deps, 422, { errors: form.errors });
      return;
    }
    const profile = notificationProfile(deps.db, res.locals.user!.id)!;
    const channels = channelStates(deps, profile);
    // A channel without a confirmed address or a linked chat cannot be ticked (the box is disabled,
    // so the browser does not send it): its stored choice stays as it was.
    const choices = {
      email: channels.emailReady ? form.data.notify_email : profile.notifyEmail === 1,
      telegram: channels.telegramReady ? form.data.notify_telegram : profile.notifyTelegram === 1,
    };
    setNotificationChoices(deps.db, profile.id, choices);
    audit(deps, req, res, 'user.notifications', choices);
    setFlash(req, 'settings.flash.choices');
    redirectAfterPost(res, viewUrl('settings'));
  },

  telegramLink(req: Request, res: Response, deps: AppDeps): void {
    const username = deps.telegramBotUsername();
    if (!deps.config.telegram.botToken || !username) {
      renderSettings(req, res, deps, 503, { errors: { telegram: message('settings.error.telegramDown') } });
      return;
    }
    const code = createTelegramLinkCode(deps.db, res.locals.user!.id);
    res.set('Cache-Control', 'no-store');
    renderSettings(req, res, deps, 200, { telegramLink: `https://t.me/${username}?start=${code}` });
  },

  telegramUnlink(req: Request, res: Response, deps: AppDeps): void {
    setTelegramChat(deps.db, res.locals.user!.id, null);
    audit(deps, req, res, 'telegram.unlink');
    setFlash(req, 'settings.flash.telegramUnlinked');
    redirectAfterPost(res, viewUrl('settings'));
  },

  async password(req: Request, res: Response, deps: AppDeps): Promise<void> {
    const form = parseForm(passwordFormSchema, req.body);
    if (!form.ok) {
      renderSettings(req, res, deps, 422, { errors: form.errors });
      return;
    }
    const user = res.locals.user!;
    const key = String(user.id);
    if (deps.limiters.passwordGuesses.blocked(key)) {
      deps.logger.warn({ userId: user.id, ip: req.ip }, 'current-password guesses limit reached');
      throw new HttpError(429, 'settings.error.tooManyGuesses', { 'Retry-After': '60' });
    }
    if (!(await verifyPassword(form.data.current_password, user.passwordHash))) {
      deps.limiters.passwordGuesses.fail(key);
      audit(deps, req, res, 'user.password_refused');
      renderSettings(req, res, deps, 422, { errors: { current_password: message('settings.error.currentWrong') } });
      return;
    }
    deps.limiters.passwordGuesses.reset(key);
    // Anyone else signed in with the old password is signed out; this browser stays in.
    await changePassword(deps.db, user, form.data.new_password, {
      by: { actor: { id: user.id, name: user.username }, ip: requestContext(req).ip },
      keepSessionId: req.sessionID,
      beforeStore: () => recheckAccount(req, res, deps, 'user'),
    });
    setFlash(req, 'settings.flash.password');
    redirectAfterPost(res, viewUrl('settings'));
  },
};

export function verifyEmail(req: Request, res: Response, deps: AppDeps): void {
  const token = param(req, 'token') ?? '';
  const now = Date.now();
  const verified = /^[\w-]{16,100}$/.test(token)
    ? inTransaction(deps.db, () => {
        const found = consumeUserToken(deps.db, 'email_verify', tokenHash(token), now);
        if (!found?.payload) return false;
        const ok = markEmailVerified(deps.db, found.userId, found.payload, now);
        if (ok) recordAudit(deps.db, { actor: { id: found.userId, name: null }, action: 'user.email_verified', ip: requestContext(req).ip, details: { email: found.payload } });
        return ok;
      })
    : false;
  const i18n = res.locals.i18n as Translator;
  res.status(verified ? 200 : 410);
  renderPage(req, res, 'message', {
    title: i18n.t(verified ? 'verify.confirmed.title' : 'verify.invalid.title'),
    message: i18n.t(verified ? 'verify.confirmed.text' : 'verify.invalid.text'),
  });
}
