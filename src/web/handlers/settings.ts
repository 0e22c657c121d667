// view=settings: the player's email (confirmed by a link before any mail is sent to it), Telegram
// link, notification choices and password. view=verify_email: the confirmation link.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { changePassword, createTelegramLinkCode, passwordSchema, tokenHash } from '../../accounts.js';
import { recordAudit } from '../../audit.js';
import { inTransaction } from '../../db/index.js';
import { consumeUserToken, enqueueNotification, insertUserToken, payloadTokensSince, retireUserTokens, userTokensSince } from '../../db/notifications.js';
import { markEmailVerified, notificationProfile, setNotificationChoices, setTelegramChat, setUserEmail } from '../../db/users.js';
import { verifyPassword } from '../../passwords.js';
import { notificationSwitches } from '../../settings.js';
import { requestContext } from '../../tickets/service.js';
import { recheckAccount } from '../access.js';
import type { AppDeps } from '../deps.js';
import { param } from '../params.js';
import { parseForm, type FieldErrors } from '../forms.js';
import { HttpError } from '../errors.js';
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
const emailSchema = z.object({ email: z.union([z.literal(''), z.email('Email must be an email address').max(254)]) });
const choicesSchema = z.object({ notify_email: checkbox, notify_telegram: checkbox });
const passwordFormSchema = z
  .object({ current_password: z.string().min(1, 'Enter your current password'), new_password: passwordSchema, confirm_password: z.string() })
  .refine((f) => f.new_password === f.confirm_password, { path: ['confirm_password'], message: 'The new passwords do not match' });

const SAVED_NOTICES: Record<string, string> = {
  email: 'Saved. Follow the link we sent to confirm the address.',
  email_off: 'Saved. Email notifications are switched off by the administrators, so no confirmation mail was sent; save the address again once they are on.',
  '1': 'Saved.',
};

interface SettingsLocals {
  errors?: FieldErrors;
  notice?: string;
  telegramLink?: string;
}

function renderSettings(req: Request, res: Response, deps: AppDeps, status = 200, locals: SettingsLocals = {}): void {
  const user = res.locals.user!;
  const profile = notificationProfile(deps.db, user.id)!;
  res.status(status);
  renderPage(req, res, 'settings', {
    title: 'Settings',
    profile,
    switches: notificationSwitches(deps.db),
    emailConfigured: deps.config.mail.smtpUrl !== undefined,
    telegramConfigured: deps.config.telegram.botToken !== undefined,
    errors: locals.errors ?? {},
    notice: locals.notice ?? (typeof req.query.saved === 'string' && Object.hasOwn(SAVED_NOTICES, req.query.saved) ? SAVED_NOTICES[req.query.saved] : undefined),
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
        renderSettings(req, res, deps, 429, { errors: { email: 'Too many confirmation mails were sent lately. Nothing was changed; try again later.' } });
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
    redirectAfterPost(res, viewUrl('settings', { saved: mailing ? 'email' : email ? 'email_off' : '1' }));
  },

  notifications(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(choicesSchema, req.body);
    if (!form.ok) {
      renderSettings(req, res, deps, 422, { errors: form.errors });
      return;
    }
    setNotificationChoices(deps.db, res.locals.user!.id, { email: form.data.notify_email, telegram: form.data.notify_telegram });
    audit(deps, req, res, 'user.notifications', { email: form.data.notify_email, telegram: form.data.notify_telegram });
    redirectAfterPost(res, viewUrl('settings', { saved: '1' }));
  },

  telegramLink(req: Request, res: Response, deps: AppDeps): void {
    const username = deps.telegramBotUsername();
    if (!deps.config.telegram.botToken || !username) {
      renderSettings(req, res, deps, 503, { errors: { telegram: 'Telegram is not available right now. Try again in a minute.' } });
      return;
    }
    const code = createTelegramLinkCode(deps.db, res.locals.user!.id);
    res.set('Cache-Control', 'no-store');
    renderSettings(req, res, deps, 200, { telegramLink: `https://t.me/${username}?start=${code}` });
  },

  telegramUnlink(req: Request, res: Response, deps: AppDeps): void {
    setTelegramChat(deps.db, res.locals.user!.id, null);
    audit(deps, req, res, 'telegram.unlink');
    redirectAfterPost(res, viewUrl('settings', { saved: '1' }));
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
      throw new HttpError(429, 'Too many wrong current passwords. Wait a minute and try again.', { 'Retry-After': '60' });
    }
    if (!(await verifyPassword(form.data.current_password, user.passwordHash))) {
      deps.limiters.passwordGuesses.fail(key);
      audit(deps, req, res, 'user.password_refused');
      renderSettings(req, res, deps, 422, { errors: { current_password: 'That is not your current password' } });
      return;
    }
    deps.limiters.passwordGuesses.reset(key);
    // Anyone else signed in with the old password is signed out; this browser stays in.
    await changePassword(deps.db, user, form.data.new_password, {
      by: { actor: { id: user.id, name: user.username }, ip: requestContext(req).ip },
      keepSessionId: req.sessionID,
      beforeStore: () => recheckAccount(req, res, deps, 'user'),
    });
    redirectAfterPost(res, viewUrl('settings', { saved: '1' }));
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
  res.status(verified ? 200 : 410);
  renderPage(req, res, 'message', {
    title: verified ? 'Email confirmed' : 'Link not valid',
    message: verified ? 'Your email address is confirmed. Support notifications can reach you there now.' : 'This confirmation link is not valid any more. Save your address again on the settings page to get a new one.',
  });
}
