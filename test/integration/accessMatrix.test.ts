// Issue #8 point 4: every view (GET) and every POST action of VIEWS x {anonymous, owner, another
// player, staff, admin}, against the answer each one must get. The cases are generated from the
// route table; the expected answers come from an explicit function over the access levels written
// out by hand in DESIGNED_ACCESS (checked against VIEWS too, so loosening a route fails here), plus
// the handler's own rules (another player's ticket or file is a 404, exactly like one that does not
// exist).
// A refused request (403, 404, 405, a sign-in redirect) changes nothing. Also: the game API with
// no, a wrong or a misplaced token, and /healthz.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { User } from '../../src/db/users.js';
import { closeTicket, createWebTicket } from '../../src/tickets/service.js';
import { createSnippet } from '../../src/tickets/snippets.js';
import { VIEWS, type Access } from '../../src/web/routes.js';
import { addUser, Client, PNG_BYTES, startApp, type Reply, type TestApp } from '../helpers/app.js';
import { ChangeWatch } from '../helpers/hostile.js';

type Role = 'anonymous' | 'owner' | 'other' | 'staff' | 'admin';
const ROLES: Role[] = ['anonymous', 'owner', 'other', 'staff', 'admin'];
const RANK: Record<Role, number> = { anonymous: 0, owner: 1, other: 1, staff: 2, admin: 3 };
const ACCESS_RANK: Record<Access, number> = { public: 0, user: 1, staff: 2, admin: 3 };
const PASSWORDS: Record<Exclude<Role, 'anonymous'>, string> = {
  owner: 'owner password 1',
  other: 'other password 2',
  staff: 'staff password 3',
  admin: 'admin password 4',
};
const GAME_TOKEN = 'access-matrix-game-token-0123456789';

/** The intended access, kept apart from src/web/routes.ts: who may use each view at all, and the staff-only actions. */
const DESIGNED_ACCESS: Record<string, Access> = {
  login: 'public',
  logout: 'user',
  tickets: 'user',
  ticket_create: 'user',
  ticket: 'user',
  attachment: 'user',
  settings: 'user',
  verify_email: 'public',
  users: 'admin',
  admin: 'admin',
  snippets: 'admin',
  audit: 'admin',
  stats: 'staff',
};
const DESIGNED_ACTION_ACCESS: Record<string, Record<string, Access>> = {
  ticket: { status: 'staff', priority: 'staff', assign: 'staff', note: 'staff', keep_open: 'staff' },
};

let app: TestApp;
const clients = {} as Record<Role, Client>;
const tokens = {} as Record<Role, string>;
const users = {} as Record<Exclude<Role, 'anonymous'>, User>;
let watch: ChangeWatch;
/** The owner's ticket with a file, and a second ticket of the owner's with another file. */
const fixtures = { ticket: 0, attachment: 0, otherTicket: 0, otherAttachment: 0, victim: 0 };

interface Expect {
  status: number;
  /** For redirects: where to. */
  location?: RegExp;
  /** The request is refused: nothing may change. */
  refused: boolean;
  /** An audit row the refusal must write (refused access is audited: SECURITY.md "Audit and logs"). */
  audit?: string;
}

const ok = (status = 200, location?: RegExp): Expect => ({ status, ...(location ? { location } : {}), refused: false });
const refused = (status: number, extra: Partial<Expect> = {}): Expect => ({ status, refused: true, ...extra });

/**
 * The dispatcher's answer before any handler runs, from the access levels alone: a method the view
 * does not have is 405, a signed-out visitor goes to sign in (302 with `next` for a page, 303 for
 * a form), a role below the view's or the action's level is 403.
 */
function gate(view: string, method: 'GET' | 'POST', action: string | undefined, role: Role): Expect | undefined {
  const route = VIEWS[view]!;
  if (method === 'GET' ? !route.get : !route.post) return refused(405);
  const access = DESIGNED_ACCESS[view]!;
  if (access !== 'public' && role === 'anonymous') {
    return method === 'GET' ? refused(302, { location: /^\/index\.php\?view=login&next=%2Findex\.php/ }) : refused(303, { location: /^\/index\.php\?view=login(&next=%2Findex\.php%3Fview%3D\w+(%26id%3D\d+)?)?$/ });
  }
  if (RANK[role] < ACCESS_RANK[access]) return refused(403);
  const actionAccess = action ? DESIGNED_ACTION_ACCESS[view]?.[action] : undefined;
  if (actionAccess && RANK[role] < ACCESS_RANK[actionAccess]) return refused(403);
  return undefined;
}

interface Case {
  view: string;
  method: 'GET' | 'POST';
  action?: string;
  variant: string;
  /** Builds the request for a role (may create what it needs first: a fresh ticket, a user). */
  request: (role: Role) => { path: string; form?: Record<string, string>; files?: { name: string; content: Buffer }[] } | Promise<{ path: string; form?: Record<string, string>; files?: { name: string; content: Buffer }[] }>;
  /** What the handler answers once the dispatcher let the role through. */
  handler: (role: Role) => Expect;
}

/** A fresh ticket of the owner's (so a close or status change never affects another case). */
function freshTicket(): number {
  return createWebTicket(app.db, { user: users.owner, subject: 'Matrix ticket', body: 'Made for one request', priority: 'normal', uploads: [] }, { ip: null });
}

/** A fresh ticket of the owner's, closed (the rating form's). */
function closedTicket(): number {
  const id = freshTicket();
  closeTicket(app.db, id, { id: users.owner.id, username: users.owner.username }, { ip: null }, { email: false, telegram: false });
  return id;
}

let userSeq = 0;
let snippetSeq = 0;

/** A saved reply of its own for one request (an update or delete finds one whoever may get through). */
function freshSnippet(): string {
  return String(createSnippet(app.db, { name: `matrix snippet ${++snippetSeq}`, body: 'Hello {player}' }, { actor: { id: null, name: 'matrix' }, ip: null }));
}

/** Per view: the GET variants and the POST actions (`default` for a single POST handler). */
const CASES: Record<string, { get?: Omit<Case, 'view' | 'method'>[]; post?: Record<string, Omit<Case, 'view' | 'method' | 'action'>[]> }> = {
  login: {
    get: [{ variant: 'form', request: () => ({ path: '/index.php?view=login' }), handler: (role) => (role === 'anonymous' ? ok() : ok(302, /^\/index\.php\?view=tickets$/)) }],
    post: { default: [{ variant: 'wrong password', request: () => ({ path: '/index.php?view=login', form: { username: 'owner', password: 'not the password' } }), handler: () => refused(401, { audit: 'login.failure' }) }] },
  },
  logout: {
    // Signing out is checked with a session of its own (below); here the route's gate only.
    post: { default: [{ variant: 'sign out', request: () => ({ path: '/index.php?view=logout', form: {} }), handler: () => ok(303, /view=login&signed_out=1/) }] },
  },
  tickets: {
    get: [
      { variant: 'list', request: () => ({ path: '/index.php?view=tickets' }), handler: () => ok() },
      { variant: 'queue filters', request: () => ({ path: '/index.php?view=tickets&status=all&assignee=mine&sort=priority' }), handler: () => ok() },
    ],
  },
  ticket_create: {
    get: [{ variant: 'form', request: () => ({ path: '/index.php?view=ticket_create' }), handler: () => ok() }],
    post: { default: [{ variant: 'new ticket', request: () => ({ path: '/index.php?view=ticket_create', form: { subject: 'Matrix', message: 'Created by the access matrix', priority: 'low' } }), handler: () => ok(303, /view=ticket&id=\d+$/) }] },
  },
  ticket: {
    get: [
      { variant: "the owner's ticket", request: () => ({ path: `/index.php?view=ticket&id=${fixtures.ticket}` }), handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : ok()) },
      { variant: 'a ticket that does not exist', request: () => ({ path: '/index.php?view=ticket&id=999999' }), handler: () => refused(404, { audit: 'ticket.access_refused' }) },
      { variant: 'no id', request: () => ({ path: '/index.php?view=ticket' }), handler: () => refused(404) },
    ],
    post: {
      reply: [
        {
          variant: "reply on the owner's ticket",
          request: () => ({ path: `/index.php?view=ticket&action=reply&id=${freshTicket()}`, form: { message: 'A reply from the matrix' }, files: [{ name: 'shot.png', content: PNG_BYTES }] }),
          handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : ok(303, /view=ticket&id=\d+#message-\d+$/)),
        },
      ],
      close: [
        {
          variant: "close the owner's ticket",
          request: () => ({ path: `/index.php?view=ticket&action=close&id=${freshTicket()}`, form: {} }),
          handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : ok(303, /view=ticket&id=\d+$/)),
        },
      ],
      rate: [
        {
          variant: "rate the owner's closed ticket",
          request: () => ({ path: `/index.php?view=ticket&action=rate&id=${closedTicket()}`, form: { rating: '4', comment: 'Rated by the matrix' } }),
          // Owner only: another player gets the 404 of any ticket they cannot see; staff cannot rate.
          handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : role === 'owner' ? ok(303, /view=ticket&id=\d+#rate$/) : refused(403)),
        },
      ],
      status: [{ variant: 'set status', request: () => ({ path: `/index.php?view=ticket&action=status&id=${freshTicket()}`, form: { status: 'in_progress' } }), handler: () => ok(303, /view=ticket&id=\d+$/) }],
      priority: [{ variant: 'set priority', request: () => ({ path: `/index.php?view=ticket&action=priority&id=${freshTicket()}`, form: { priority: 'urgent' } }), handler: () => ok(303, /view=ticket&id=\d+$/) }],
      assign: [{ variant: 'assign to me', request: () => ({ path: `/index.php?view=ticket&action=assign&id=${freshTicket()}`, form: { assignee: 'me' } }), handler: () => ok(303, /view=ticket&id=\d+$/) }],
      note: [{ variant: 'internal note', request: () => ({ path: `/index.php?view=ticket&action=note&id=${freshTicket()}`, form: { note: 'Internal' } }), handler: () => ok(303, /view=ticket&id=\d+#message-\d+$/) }],
      keep_open: [{ variant: 'keep open', request: () => ({ path: `/index.php?view=ticket&action=keep_open&id=${freshTicket()}`, form: { keep_open: '1' } }), handler: () => ok(303, /view=ticket&id=\d+$/) }],
    },
  },
  attachment: {
    get: [
      { variant: "the owner's file", request: () => ({ path: `/index.php?view=attachment&ticket=${fixtures.ticket}&id=${fixtures.attachment}` }), handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : ok()) },
      {
        variant: 'a file of another ticket (mismatched pair)',
        request: () => ({ path: `/index.php?view=attachment&ticket=${fixtures.ticket}&id=${fixtures.otherAttachment}` }),
        handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : refused(404, { audit: 'attachment.access_refused' })),
      },
      { variant: 'a file that does not exist', request: () => ({ path: `/index.php?view=attachment&ticket=${fixtures.ticket}&id=999999` }), handler: (role) => (role === 'other' ? refused(404, { audit: 'ticket.access_refused' }) : refused(404, { audit: 'attachment.access_refused' })) },
    ],
  },
  users: {
    get: [{ variant: 'list', request: () => ({ path: '/index.php?view=users' }), handler: () => ok() }],
    post: {
      create: [{ variant: 'create', request: () => ({ path: '/index.php?view=users&action=create', form: { username: `matrix${++userSeq}`, password: 'a matrix password', role: 'user', email: '', game_account: '' } }), handler: () => ok(303, /view=users$/) }],
      disable: [{ variant: 'disable', request: () => ({ path: '/index.php?view=users&action=disable', form: { user_id: String(fixtures.victim) } }), handler: () => ok(303, /view=users$/) }],
      enable: [{ variant: 'enable', request: () => ({ path: '/index.php?view=users&action=enable', form: { user_id: String(fixtures.victim) } }), handler: () => ok(303, /view=users$/) }],
      reset_password: [{ variant: 'reset password', request: () => ({ path: '/index.php?view=users&action=reset_password', form: { user_id: String(fixtures.victim) } }), handler: () => ok(200) }],
      role: [{ variant: 'make staff', request: () => ({ path: '/index.php?view=users&action=role', form: { user_id: String(fixtures.victim), role: 'staff' } }), handler: () => ok(303, /view=users$/) }],
      game_account: [{ variant: 'link game account', request: () => ({ path: '/index.php?view=users&action=game_account', form: { user_id: String(fixtures.victim), game_account: '2000777' } }), handler: () => ok(303, /view=users$/) }],
    },
  },
  admin: {
    get: [{ variant: 'page', request: () => ({ path: '/index.php?view=admin' }), handler: () => ok() }],
    post: {
      default: [
        {
          variant: 'save settings',
          request: () => ({
            path: '/index.php?view=admin',
            form: {
              notify_email: 'on',
              template_request: '[RagnaSync Ticket]: {message}',
              template_pm_created: 'Ticket Created on Discord. PM @Support to use',
              template_offline: 'RagnaSync: Ticket Offline, Try again',
              template_disabled: 'RagnaSync Ticket Support Disabled',
            },
          }),
          handler: () => ok(303, /view=admin$/),
        },
      ],
      // The matrix's app has no sender and no backup schedule: the admin's answer is the inline 422.
      recheck: [{ variant: 'check Discord again', request: () => ({ path: '/index.php?view=admin&action=recheck', form: {} }), handler: () => ok(303, /view=admin#integration-discord$/) }],
      test_email: [{ variant: 'test email (email off)', request: () => ({ path: '/index.php?view=admin&action=test_email', form: { to: 'matrix@example.org' } }), handler: () => refused(422) }],
      test_telegram: [{ variant: 'test Telegram (no sender)', request: () => ({ path: '/index.php?view=admin&action=test_telegram', form: { to: '123456' } }), handler: () => refused(422) }],
      backup: [{ variant: 'back up now (backups off)', request: () => ({ path: '/index.php?view=admin&action=backup', form: {} }), handler: () => refused(422) }],
    },
  },
  snippets: {
    get: [{ variant: 'list', request: () => ({ path: '/index.php?view=snippets' }), handler: () => ok() }],
    post: {
      create: [{ variant: 'create', request: () => ({ path: '/index.php?view=snippets&action=create', form: { name: `matrix new ${++snippetSeq}`, body: 'Hi {player}' } }), handler: () => ok(303, /view=snippets$/) }],
      update: [{ variant: 'edit', request: () => ({ path: '/index.php?view=snippets&action=update', form: { snippet_id: freshSnippet(), name: `matrix edited ${++snippetSeq}`, body: 'Changed' } }), handler: () => ok(303, /view=snippets$/) }],
      delete: [{ variant: 'delete', request: () => ({ path: '/index.php?view=snippets&action=delete', form: { snippet_id: freshSnippet() } }), handler: () => ok(303, /view=snippets$/) }],
    },
  },
  settings: {
    get: [{ variant: 'page', request: () => ({ path: '/index.php?view=settings' }), handler: () => ok() }],
    post: {
      language: [{ variant: 'language', request: () => ({ path: '/index.php?view=settings&action=language', form: { locale: 'en' } }), handler: () => ok(303, /view=settings$/) }],
      email: [{ variant: 'email', request: (role) => ({ path: '/index.php?view=settings&action=email', form: { email: `${role}@example.org` } }), handler: () => ok(303, /view=settings$/) }],
      notifications: [{ variant: 'choices', request: () => ({ path: '/index.php?view=settings&action=notifications', form: { notify_email: 'on' } }), handler: () => ok(303, /view=settings$/) }],
      telegram_link: [{ variant: 'link code', request: () => ({ path: '/index.php?view=settings&action=telegram_link', form: {} }), handler: () => ok(200) }],
      telegram_unlink: [{ variant: 'unlink', request: () => ({ path: '/index.php?view=settings&action=telegram_unlink', form: {} }), handler: () => ok(303, /view=settings$/) }],
      password: [
        {
          variant: 'change password (to the same one)',
          request: (role) => {
            const password = role === 'anonymous' ? 'whatever password' : PASSWORDS[role];
            return { path: '/index.php?view=settings&action=password', form: { current_password: password, new_password: password, confirm_password: password } };
          },
          handler: () => ok(303, /view=settings$/),
        },
      ],
    },
  },
  verify_email: {
    get: [{ variant: 'an unknown link', request: () => ({ path: '/index.php?view=verify_email&token=abcdefghijklmnopqrstuvwxyz' }), handler: () => refused(410) }],
  },
  audit: {
    get: [
      { variant: 'page', request: () => ({ path: '/index.php?view=audit' }), handler: () => ok() },
      { variant: 'CSV export', request: () => ({ path: '/index.php?view=audit&format=csv' }), handler: () => ok() },
    ],
  },
  stats: {
    get: [
      { variant: 'page', request: () => ({ path: '/index.php?view=stats' }), handler: () => ok() },
      { variant: 'a date range', request: () => ({ path: '/index.php?view=stats&from=2026-01-01&to=2026-01-31' }), handler: () => ok() },
      { variant: 'CSV export', request: () => ({ path: '/index.php?view=stats&format=csv' }), handler: () => ok() },
    ],
  },
};

/** Every case of the matrix: the cases above, plus a 405 probe for each method a view lacks. */
function allCases(): { cases: Case[]; missing: string[] } {
  const cases: Case[] = [];
  const missing: string[] = [];
  for (const [view, route] of Object.entries(VIEWS)) {
    const table = CASES[view];
    if (route.get) {
      if (!table?.get?.length) missing.push(`GET ${view}`);
      for (const c of table?.get ?? []) cases.push({ ...c, view, method: 'GET' });
    } else {
      cases.push({ view, method: 'GET', variant: 'no GET', request: () => ({ path: `/index.php?view=${view}` }), handler: () => refused(405) });
    }
    if (route.post) {
      const actions = typeof route.post === 'function' ? ['default'] : Object.keys(route.post);
      for (const action of actions) {
        if (!table?.post?.[action]?.length) missing.push(`POST ${view}${action === 'default' ? '' : ` action=${action}`}`);
        for (const c of table?.post?.[action] ?? []) cases.push({ ...c, view, method: 'POST', ...(action === 'default' ? {} : { action }) });
      }
      for (const action of Object.keys(table?.post ?? {})) if (!actions.includes(action)) missing.push(`stale: POST ${view} action=${action}`);
    } else {
      cases.push({ view, method: 'POST', variant: 'no POST', request: () => ({ path: `/index.php?view=${view}`, form: {} }), handler: () => refused(405) });
    }
  }
  for (const view of Object.keys(CASES)) if (!Object.hasOwn(VIEWS, view)) missing.push(`stale: ${view}`);
  return { cases, missing };
}

let addressSeq = 0;
/** A client of its own "address" (through the trusted loopback proxy), so sign-in limits stay per role. */
function newClient(): Client {
  addressSeq++;
  return new Client(app.url, { 'x-forwarded-for': `10.77.${addressSeq >> 8}.${addressSeq & 255}` });
}

/** A session of its own for `role` (signing out must not end the matrix's sessions). */
async function ownSession(role: Role): Promise<{ client: Client; token: string }> {
  const client = newClient();
  if (role !== 'anonymous') assert.equal((await client.login(role, PASSWORDS[role])).status, 303);
  return { client, token: await client.csrf(role === 'anonymous' ? '/index.php?view=login' : '/index.php?view=settings') };
}

async function send(role: Role, method: 'GET' | 'POST', request: Awaited<ReturnType<Case['request']>>, session?: { client: Client; token: string }): Promise<Reply> {
  const client = session?.client ?? clients[role];
  if (method === 'GET') return client.get(request.path);
  const form = { _csrf: session?.token ?? tokens[role], ...request.form };
  if (request.files) return client.postMultipart(request.path, form, request.files.map((f) => ({ ...f, type: 'image/png' })));
  return client.post(request.path, form);
}

before(async () => {
  app = await startApp({
    env: { GAME_API_TOKEN: GAME_TOKEN, TELEGRAM_BOT_TOKEN: '123456:access-matrix-token-abcdefghij' },
    app: { telegramBotUsername: () => 'matrix_test_bot' },
  });
  for (const role of ['owner', 'other', 'staff', 'admin'] as const) {
    users[role] = await addUser(app.db, role, PASSWORDS[role], role === 'staff' ? 'staff' : role === 'admin' ? 'admin' : 'user');
  }
  fixtures.victim = (await addUser(app.db, 'victim', 'victim password 5')).id;
  for (const role of ROLES) {
    clients[role] = newClient();
    if (role !== 'anonymous') assert.equal((await clients[role].login(role, PASSWORDS[role])).status, 303);
    tokens[role] = await clients[role].csrf(role === 'anonymous' ? '/index.php?view=login' : '/index.php?view=settings');
  }
  // The owner's two tickets, each with a file.
  for (const key of ['ticket', 'otherTicket'] as const) {
    const reply = await clients.owner.postMultipart('/index.php?view=ticket_create', { _csrf: tokens.owner, subject: `Owner ${key}`, message: 'With a file' }, [{ name: `${key}.png`, content: PNG_BYTES, type: 'image/png' }]);
    assert.equal(reply.status, 303);
    fixtures[key] = Number(/id=(\d+)/.exec(reply.location ?? '')![1]);
  }
  const attachmentOf = (ticketId: number) => (app.db.prepare('SELECT id FROM attachments WHERE ticket_id = ?').get(ticketId) as { id: number }).id;
  fixtures.attachment = attachmentOf(fixtures.ticket);
  fixtures.otherAttachment = attachmentOf(fixtures.otherTicket);
  watch = new ChangeWatch(app.db, app.config.uploadsDir, app.dir);
});

after(() => app?.close());

test('the route table grants what DESIGNED_ACCESS says, and every route has expectations here', () => {
  const { missing } = allCases();
  assert.deepEqual(missing, [], 'add these to CASES in test/integration/accessMatrix.test.ts with the answer each role must get');
  const actual = Object.fromEntries(Object.entries(VIEWS).map(([view, route]) => [view, route.access]));
  assert.deepEqual(actual, DESIGNED_ACCESS, 'a view whose access changed (or a new view: add it to DESIGNED_ACCESS)');
  const actualActions = Object.fromEntries(Object.entries(VIEWS).filter(([, route]) => route.actionAccess).map(([view, route]) => [view, route.actionAccess]));
  assert.deepEqual(actualActions, DESIGNED_ACTION_ACCESS);
});

test('every view and action x anonymous, owner, other player, staff, admin', async () => {
  const { cases } = allCases();
  const problems: string[] = [];
  let requests = 0;
  const table: string[] = [];
  for (const c of cases) {
    const answers: string[] = [];
    for (const role of ROLES) {
      const expected = gate(c.view, c.method, c.action, role) ?? c.handler(role);
      const request = await c.request(role);
      const session = c.view === 'logout' && c.method === 'POST' ? await ownSession(role) : undefined;
      const before = watch.snapshot();
      const reply = await send(role, c.method, request, session);
      const after = watch.snapshot();
      requests++;
      const label = `${c.method} ${c.view}${c.action ? `:${c.action}` : ''} (${c.variant}) as ${role}`;
      answers.push(`${role} ${reply.status}`);
      if (reply.status !== expected.status) problems.push(`${label}: ${reply.status}, expected ${expected.status} ${reply.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      if (expected.location && !expected.location.test(reply.location ?? '')) problems.push(`${label}: redirected to ${reply.location}, expected ${expected.location}`);
      if (expected.refused) {
        const changed = watch.changes(before, after);
        if (changed.length) problems.push(`${label}: refused but changed ${changed.join('; ')}`);
      }
      if (expected.audit) {
        const rows = app.db.prepare('SELECT action, actor_name AS actor FROM audit_log WHERE id > ? AND id <= ?').all(before.audit, after.audit) as { action: string; actor: string | null }[];
        if (!rows.some((row) => row.action === expected.audit && (role === 'anonymous' || row.actor === role || expected.audit === 'login.failure'))) problems.push(`${label}: no ${expected.audit} audit row`);
      }
      if (c.method === 'GET' && reply.status === 200 && c.view === 'attachment') {
        if (reply.headers.get('x-content-type-options') !== 'nosniff' || !/^attachment;/.test(reply.headers.get('content-disposition') ?? '')) problems.push(`${label}: file served without nosniff/attachment`);
      }
      if ((c.view === 'audit' || c.view === 'stats') && c.variant === 'CSV export' && reply.status === 200 && !/text\/csv/.test(reply.headers.get('content-type') ?? '')) problems.push(`${label}: not CSV`);
    }
    table.push(`${c.method.padEnd(4)} ${`${c.view}${c.action ? `:${c.action}` : ''}`.padEnd(28)} ${c.variant.padEnd(44)} ${answers.join('  ')}`);
  }
  console.log(`access matrix: ${cases.length} cases x ${ROLES.length} roles = ${requests} requests\n${table.join('\n')}`);
  assert.deepEqual(problems, []);
});

test("another player's ticket and file answer exactly like ones that do not exist", async () => {
  const normalise = (text: string) => text.replace(/name="_csrf" value="[^"]+"/g, '').replace(/\d+/g, 'N');
  const theirs = await clients.other.get(`/index.php?view=ticket&id=${fixtures.ticket}`);
  const missing = await clients.other.get('/index.php?view=ticket&id=999999');
  assert.equal(theirs.status, 404);
  assert.equal(normalise(theirs.text), normalise(missing.text));
  assert.doesNotMatch(theirs.text, /Owner ticket/, 'the subject never shows');
  const file = await clients.other.get(`/index.php?view=attachment&ticket=${fixtures.ticket}&id=${fixtures.attachment}`);
  const noFile = await clients.other.get(`/index.php?view=attachment&ticket=999999&id=${fixtures.attachment}`);
  assert.equal(file.status, 404);
  assert.equal(normalise(file.text), normalise(noFile.text));
});

test('a refused POST without a valid CSRF token changes nothing, for every action and role', async () => {
  const { cases } = allCases();
  const problems: string[] = [];
  for (const c of cases.filter((c) => c.method === 'POST' && VIEWS[c.view]!.post)) {
    for (const role of ROLES) {
      const request = await c.request(role);
      const before = watch.snapshot();
      const reply = await clients[role].post(request.path, { _csrf: 'not-the-token', ...request.form });
      const changed = watch.changes(before, watch.snapshot());
      const gated = gate(c.view, 'POST', c.action, role);
      const expected = gated?.status ?? 403;
      const label = `POST ${c.view}${c.action ? `:${c.action}` : ''} as ${role} with a wrong CSRF token`;
      if (reply.status !== expected) problems.push(`${label}: ${reply.status}, expected ${expected}`);
      if (changed.length) problems.push(`${label}: changed ${changed.join('; ')}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('signing out: each role with a session of its own; the session is gone afterwards', async () => {
  for (const role of ['owner', 'other', 'staff', 'admin'] as const) {
    const { client: session, token: _csrf } = await ownSession(role);
    const reply = await session.post('/index.php?view=logout', { _csrf });
    assert.equal(reply.status, 303);
    assert.match(reply.location ?? '', /view=login&signed_out=1/);
    assert.equal((await session.get('/index.php?view=tickets')).status, 302, `${role} is signed out`);
  }
});

test('game API: no token, a wrong one, one in the wrong place: 401; the right one works; no token configured: 503', async () => {
  const endpoints: { method: string; path: string; body?: string; okStatus: number }[] = [
    { method: 'POST', path: '/api/game/actions', body: JSON.stringify({ action: 'logout', account_id: 2000001, char_id: 150001, name: 'Matrix Player' }), okStatus: 200 },
    { method: 'GET', path: '/api/game/whispers?wait=0', okStatus: 200 },
    { method: 'POST', path: '/api/game/whispers/ack', body: JSON.stringify({ ids: [1] }), okStatus: 200 },
    { method: 'GET', path: '/api/game/nope', okStatus: 404 },
  ];
  const auths: { label: string; headers: Record<string, string>; query?: string; expected?: number }[] = [
    { label: 'no token', headers: {}, expected: 401 },
    { label: 'wrong token', headers: { authorization: 'Bearer wrong-token' }, expected: 401 },
    { label: 'token one character short', headers: { authorization: `Bearer ${GAME_TOKEN.slice(0, -1)}` }, expected: 401 },
    { label: 'token with a suffix', headers: { authorization: `Bearer ${GAME_TOKEN}x` }, expected: 401 },
    { label: 'Basic scheme', headers: { authorization: `Basic ${Buffer.from(`game:${GAME_TOKEN}`).toString('base64')}` }, expected: 401 },
    { label: 'token without scheme', headers: { authorization: GAME_TOKEN }, expected: 401 },
    { label: 'token in the query string', headers: {}, query: `token=${GAME_TOKEN}`, expected: 401 },
    { label: 'token as a cookie', headers: { cookie: `token=${GAME_TOKEN}` }, expected: 401 },
    { label: 'the right token', headers: { authorization: `Bearer ${GAME_TOKEN}` } },
  ];
  const problems: string[] = [];
  for (const endpoint of endpoints) {
    for (const auth of auths) {
      const url = `${app.url}${endpoint.path}${auth.query ? `${endpoint.path.includes('?') ? '&' : '?'}${auth.query}` : ''}`;
      const before = watch.snapshot();
      const response = await fetch(url, { method: endpoint.method, headers: { 'content-type': 'application/json', ...auth.headers }, body: endpoint.body });
      const changed = watch.changes(before, watch.snapshot());
      const expected = auth.expected ?? endpoint.okStatus;
      const body = (await response.json()) as { ok?: boolean; error?: string };
      if (response.status !== expected) problems.push(`${endpoint.method} ${endpoint.path} ${auth.label}: ${response.status}, expected ${expected}`);
      if (expected === 401 && (body.ok !== false || !/token/.test(body.error ?? ''))) problems.push(`${endpoint.method} ${endpoint.path} ${auth.label}: body ${JSON.stringify(body)}`);
      if (expected === 401 && changed.length) problems.push(`${endpoint.method} ${endpoint.path} ${auth.label}: refused but changed ${changed.join('; ')}`);
    }
  }
  assert.deepEqual(problems, []);

  // The game API switched off (no GAME_API_TOKEN): every call is 503 with a clear body, token or not.
  const off = await startApp();
  try {
    for (const endpoint of endpoints) {
      for (const headers of [{}, { authorization: `Bearer ${GAME_TOKEN}` }] as Record<string, string>[]) {
        const response = await fetch(`${off.url}${endpoint.path}`, { method: endpoint.method, headers: { 'content-type': 'application/json', ...headers }, body: endpoint.body });
        assert.equal(response.status, 503, `${endpoint.method} ${endpoint.path}`);
        assert.deepEqual(await response.json(), { ok: false, error: 'game API not configured: set GAME_API_TOKEN' });
      }
    }
  } finally {
    await off.close();
  }
});

test('/healthz answers everyone with the state and nothing secret; other routes outside VIEWS', async () => {
  for (const role of ROLES) {
    const reply = await clients[role].get('/healthz');
    assert.equal(reply.status, 200, role);
    const body = JSON.parse(reply.text) as { status: string; database: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.database, 'ok');
    assert.ok(!reply.text.includes(GAME_TOKEN) && !reply.text.includes('access-matrix-token'), 'no token in /healthz');
  }
  for (const role of ROLES) {
    const root = await clients[role].get('/');
    assert.equal(root.status, 302);
    assert.equal(root.location, '/index.php?view=tickets');
    assert.equal((await clients[role].get('/static/app.css')).status, 200);
    assert.equal((await clients[role].get('/index.php?view=no_such_view')).status, 404);
    assert.equal((await clients[role].request('PUT', '/index.php?view=tickets')).status, 405);
    assert.equal((await clients[role].request('DELETE', `/index.php?view=ticket&id=${fixtures.ticket}`)).status, 405);
  }
});
