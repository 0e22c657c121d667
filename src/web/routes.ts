// Every page and action of the dashboard, listed once with who may use it, so the access rules
// live in one table (test/integration/accessMatrix.test.ts checks it against the intended access).
// GET /index.php?view=NAME renders; POST /index.php?view=NAME[&action=A] changes and redirects.
// The dispatcher (dispatch.ts) enforces `access` and CSRF before any handler runs.
import type { Request, Response } from 'express';
import type { QuotaKind } from '../tickets/quotas.js';
import type { Access } from './access.js';
import type { AppDeps } from './deps.js';
import { loginForm, login } from './handlers/login.js';
import { logout } from './handlers/logout.js';
import { downloadAttachment } from './handlers/attachment.js';
import { auditCsv, auditPage } from './handlers/audit.js';
import { adminPage, backupAction, recheckAction, saveAdminSettings, testEmailAction, testTelegramAction } from './handlers/admin.js';
import { closeTicketAction, rateTicketAction, replyToTicket, ticketPage } from './handlers/ticket.js';
import { addNote, assignTicketAction, changePriority, changeStatus, keepOpenAction } from './handlers/ticketStaff.js';
import { userAction, usersPage } from './handlers/users.js';
import { settingsAction, settingsPage, verifyEmail } from './handlers/settings.js';
import { createTicket, ticketCreateForm } from './handlers/ticketCreate.js';
import { ticketsPage } from './handlers/tickets.js';
import { snippetAction, snippetsPage } from './handlers/snippets.js';
import { statsCsv, statsPage } from './handlers/stats.js';

export type { Access };
export type Handler = (req: Request, res: Response, deps: AppDeps) => void | Promise<void>;

export interface ViewRoute {
  /** Who may use the view at all; handlers still check ownership of what they load. */
  access: Access;
  get?: Handler;
  /** One handler, or one per `action` (key `default` when no action is given). */
  post?: Handler | Record<string, Handler>;
  /** Actions that need more than `access` (e.g. staff-only actions on a ticket). */
  actionAccess?: Record<string, Access>;
  /** Extra limits applied to POST before the handler (see AppDeps.limiters). */
  postLimiter?: 'login';
  /**
   * POSTs may be multipart with `attachments`: files are streamed to UPLOADS_DIR before the CSRF
   * check (the token is inside the body) and removed unless a handler stores rows for them.
   */
  multipart?: boolean;
  /** Actions (`default` for a single handler) that count toward a player's posting quota (src/tickets/quotas.ts). */
  quotas?: Record<string, QuotaKind>;
}

export const VIEWS: Record<string, ViewRoute> = {
  login: { access: 'public', get: loginForm, post: login, postLimiter: 'login' },
  logout: { access: 'user', post: logout },
  tickets: { access: 'user', get: ticketsPage },
  ticket_create: { access: 'user', get: ticketCreateForm, post: createTicket, multipart: true, quotas: { default: 'ticket' } },
  ticket: {
    access: 'user',
    get: ticketPage,
    post: { reply: replyToTicket, close: closeTicketAction, rate: rateTicketAction, status: changeStatus, priority: changePriority, assign: assignTicketAction, note: addNote, keep_open: keepOpenAction },
    actionAccess: { status: 'staff', priority: 'staff', assign: 'staff', note: 'staff', keep_open: 'staff' },
    multipart: true,
    quotas: { reply: 'reply' },
  },
  attachment: { access: 'user', get: downloadAttachment },
  users: {
    access: 'admin',
    get: usersPage,
    post: { create: userAction.create, disable: userAction.disable, enable: userAction.enable, reset_password: userAction.resetPassword, role: userAction.role, game_account: userAction.gameAccount },
  },
  admin: {
    access: 'admin',
    get: adminPage,
    post: { default: saveAdminSettings, recheck: recheckAction, test_email: testEmailAction, test_telegram: testTelegramAction, backup: backupAction },
  },
  snippets: { access: 'admin', get: snippetsPage, post: { create: snippetAction.create, update: snippetAction.update, delete: snippetAction.delete } },
  settings: {
    access: 'user',
    get: settingsPage,
    post: {
      language: settingsAction.language,
      email: settingsAction.email,
      notifications: settingsAction.notifications,
      telegram_link: settingsAction.telegramLink,
      telegram_unlink: settingsAction.telegramUnlink,
      password: settingsAction.password,
    },
  },
  verify_email: { access: 'public', get: verifyEmail },
  stats: { access: 'staff', get: (req, res, deps) => (req.query.format === 'csv' ? statsCsv(req, res, deps) : statsPage(req, res, deps)) },
  audit: { access: 'admin', get: (req, res, deps) => (req.query.format === 'csv' ? auditCsv(req, res, deps) : auditPage(req, res, deps)) },
};

export const DEFAULT_VIEW = 'tickets';
