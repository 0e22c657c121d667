// Issue #8 point 3: the hostile corpus (test/helpers/hostile.ts) sent to every form field, query
// parameter and game API field — as the role that may use each one, with a valid CSRF token so the
// payload reaches the handler. For every request: no 5xx, no stack trace or internals in the
// answer, and a refused request (4xx) stores nothing: no row of tickets, messages, attachments,
// users, settings, tokens or outboxes inserted, updated or deleted (watched by TEMP triggers on the
// app's own connection), no audit row other than the refusal rows the code writes on purpose, and
// no file added to or removed from the uploads folder or its parent.
//
// The view/action list comes from VIEWS (src/web/routes.ts): a view or action with no field list
// below fails the test, so a new route cannot be forgotten.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { guildSettings } from '../../src/db/guilds.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { closeTicket, createWebTicket } from '../../src/tickets/service.js';
import { receiveGameMessage } from '../../src/tickets/game.js';
import { DEFAULT_WHISPER_TEMPLATES } from '../../src/settings.js';
import { SYSTEM_ACTOR } from '../../src/audit.js';
import { createSnippet } from '../../src/tickets/snippets.js';
import type { User } from '../../src/db/users.js';
import type { DiscordBridge } from '../../src/discord/bridge.js';
import { VIEWS } from '../../src/web/routes.js';
import { escapeHtml } from '../../src/web/text.js';
import type { FakeDiscord } from '../../support/fakes/discord.js';
import { addUser, Client, PNG_BYTES, tempDir, uploadedFiles, type TestApp } from '../helpers/app.js';
import { GAME_TOKEN, startBridged, type BridgedSetup } from '../helpers/bridge.js';
import { launchServer } from '../../support/server.js';
import {
  ChangeWatch,
  FIELD_SHAPES,
  gzipBomb,
  hostileFiles,
  hostileValues,
  leaksIn,
  multipartBody,
  urlEncode,
  withField,
  type ChangeSnapshot,
  type FieldShape,
  type FormEntry,
  type HostileFile,
  type HostileValue,
} from '../helpers/hostile.js';

const MAX_BYTES = 256 * 1024;
const MAX_FILES = 3;
const PASSWORD = 'correct horse battery';

type Who = 'anonymous' | 'player' | 'staff' | 'admin';

let setup: BridgedSetup;
let fake: FakeDiscord;
let bridge: DiscordBridge;
let app: TestApp;
let db: Db;
const clients = {} as Record<Who, Client>;
const tokens = {} as Record<Who, string>;
const ids = { reply: '', close: '', rate: '', game: '', attachment: '', victim: '' };
let snippetSeq = 0;
/** A saved reply of its own for one update or delete (so each hostile request finds one to change). */
function freshSnippet(): string {
  return String(createSnippet(db, { name: `hostile snippet ${++snippetSeq}`, body: 'Hello {player}' }, { actor: SYSTEM_ACTOR, ip: null }));
}
let playerUser: User;

/**
 * A target ticket that is replaced by a fresh one every 20 requests, so a ticket page rendered
 * for a refused request never grows to hundreds of messages (that is the load test's business).
 */
const rotation = { reply: { n: 0, id: '' }, staff: { n: 0, id: '' }, game: { n: 0, id: '' } };
let gameCharSeq = 170_000;
function rotating(kind: keyof typeof rotation): string {
  const slot = rotation[kind];
  if (slot.n++ % 20 === 0) {
    if (kind === 'game') {
      const charId = ++gameCharSeq;
      slot.id = String(receiveGameMessage(db, { accountId: 2000001, charId, name: `Target ${charId}`, via: 'pm', message: 'Help me' }, { templates: DEFAULT_WHISPER_TEMPLATES, guildId: fake.guildId }).ticketId);
    } else {
      slot.id = String(createWebTicket(db, { user: playerUser, subject: `${kind} target`, body: 'Target of hostile requests', priority: 'normal', uploads: [] }, { ip: null }));
    }
  }
  return slot.id;
}

// ---------------------------------------------------------------------------------------------
// What each view and action reads (from src/web/handlers/*.ts). `post` keys are the actions of
// VIEWS[view].post, `default` when the view has one POST handler.

interface GetSpec {
  who: Who;
  /** Valid query values; the payload replaces one of `params`. */
  base?: () => Record<string, string>;
  params: string[];
}

interface FormSpec {
  who: Who;
  /** Valid form values; the payload replaces one of `fields`. */
  base: () => Record<string, string>;
  /** Query values besides view and action (the ticket id). */
  query?: () => Record<string, string>;
  fields: string[];
  /** Query parameters that get the payloads too. */
  queryFields?: string[];
  multipart?: boolean;
  /** Takes `attachments`: the hostile files go here too. */
  files?: boolean;
  /** One request per payload with every field set to it (each valid one costs a scrypt hash). */
  together?: boolean;
  /** A valid request ends the session (logout): only the CSRF field is attacked. */
  endsSession?: boolean;
  /** The fields are passwords: an answer never shows them. */
  secret?: boolean;
}

interface ViewFields {
  get?: GetSpec[];
  post?: Record<string, FormSpec[]>;
}

let userSeq = 0;
const ADMIN_TEMPLATES = {
  template_request: '[RagnaSync Ticket]: {message}',
  template_pm_created: 'Ticket Created on Discord. PM @Support to use',
  template_offline: 'RagnaSync: Ticket Offline, Try again',
  template_disabled: 'RagnaSync Ticket Support Disabled',
};

const FIELDS: Record<string, ViewFields> = {
  login: {
    get: [{ who: 'anonymous', params: ['next', 'signed_out'] }],
    post: { default: [{ who: 'anonymous', base: () => ({ username: 'hostile_player', password: 'not the password', next: '/index.php?view=tickets' }), fields: ['username', 'password', 'next'], together: true }] },
  },
  logout: { post: { default: [{ who: 'player', base: () => ({}), fields: [], endsSession: true }] } },
  tickets: {
    get: [
      { who: 'player', params: ['status', 'date_from', 'date_to', 'q', 'page'] },
      { who: 'staff', params: ['q', 'status', 'priority', 'source', 'assignee', 'owner', 'sort'] },
    ],
  },
  ticket_create: {
    get: [{ who: 'player', params: [] }],
    post: {
      default: [{ who: 'player', multipart: true, files: true, base: () => ({ subject: 'Hostile test', message: 'Body text', priority: 'normal' }), fields: ['subject', 'message', 'priority'] }],
    },
  },
  ticket: {
    get: [
      { who: 'player', base: () => ({ id: ids.reply }), params: ['id', 'page', 'full'] },
      { who: 'staff', base: () => ({ id: ids.game }), params: ['id', 'page', 'full'] },
    ],
    post: {
      reply: [
        { who: 'player', multipart: true, files: true, query: () => ({ id: rotating('reply') }), queryFields: ['id'], base: () => ({ message: 'A reply' }), fields: ['message'] },
        // Support's answer to a game ticket: whispers (split) and the Discord relay get the payload.
        { who: 'staff', multipart: true, files: true, query: () => ({ id: rotating('game') }), base: () => ({ message: 'Support answer', status: 'answered' }), fields: ['message', 'status'] },
      ],
      close: [{ who: 'player', query: () => ({ id: ids.close }), queryFields: ['id'], base: () => ({}), fields: [] }],
      // "How did we do?" on a closed ticket of the player's (a stored rating makes the rest a 409).
      rate: [{ who: 'player', query: () => ({ id: ids.rate }), queryFields: ['id'], base: () => ({ rating: '4', comment: 'Helpful' }), fields: ['rating', 'comment'] }],
      status: [{ who: 'staff', query: () => ({ id: rotating('staff') }), queryFields: ['id'], base: () => ({ status: 'open' }), fields: ['status'] }],
      priority: [{ who: 'staff', query: () => ({ id: rotating('staff') }), base: () => ({ priority: 'high' }), fields: ['priority'] }],
      assign: [{ who: 'staff', query: () => ({ id: rotating('staff') }), base: () => ({ assignee: '' }), fields: ['assignee'] }],
      note: [{ who: 'staff', query: () => ({ id: rotating('staff') }), base: () => ({ note: 'Internal note' }), fields: ['note'] }],
      keep_open: [{ who: 'staff', query: () => ({ id: rotating('staff') }), base: () => ({ keep_open: '1' }), fields: ['keep_open'] }],
    },
  },
  attachment: { get: [{ who: 'player', base: () => ({ ticket: ids.reply, id: ids.attachment }), params: ['ticket', 'id'] }] },
  users: {
    get: [{ who: 'admin', params: [] }],
    post: {
      create: [
        {
          who: 'admin',
          base: () => ({ username: `made${++userSeq}`, password: 'a long enough password', role: 'user', email: '', game_account: '' }),
          fields: ['username', 'role', 'email', 'game_account'],
        },
        // Passwords are checked by the same schema as in settings; here with a role that is
        // refused too, so the corpus costs no scrypt hashes (and the form must not echo them).
        {
          who: 'admin',
          base: () => ({ username: `made${++userSeq}`, password: 'a long enough password', role: 'no-such-role', email: '', game_account: '' }),
          fields: ['password'],
          secret: true,
        },
      ],
      disable: [{ who: 'admin', base: () => ({ user_id: ids.victim }), fields: ['user_id'] }],
      enable: [{ who: 'admin', base: () => ({ user_id: ids.victim }), fields: ['user_id'] }],
      reset_password: [{ who: 'admin', base: () => ({ user_id: ids.victim }), fields: ['user_id'] }],
      role: [{ who: 'admin', base: () => ({ user_id: ids.victim, role: 'user' }), fields: ['user_id', 'role'] }],
      game_account: [{ who: 'admin', base: () => ({ user_id: ids.victim, game_account: '' }), fields: ['user_id', 'game_account'] }],
    },
  },
  admin: {
    get: [{ who: 'admin', params: ['saved'] }],
    post: {
      default: [
        {
          who: 'admin',
          base: () => ({ ...ADMIN_TEMPLATES, close_on_logout: 'on' }),
          fields: ['notify_email', 'notify_telegram', 'close_on_logout', 'template_request', 'template_pm_created', 'template_offline', 'template_disabled', 'template_closed', 'limit_tickets_per_minute', 'limit_replies_per_minute', 'limit_uploads_per_hour', 'limit_upload_mib_per_day'],
        },
      ],
      recheck: [{ who: 'admin', base: () => ({}), fields: [] }],
      test_email: [{ who: 'admin', base: () => ({ to: 'hostile@example.org' }), fields: ['to'] }],
      test_telegram: [{ who: 'admin', base: () => ({ to: '123456789' }), fields: ['to'] }],
      backup: [{ who: 'admin', base: () => ({}), fields: [] }],
    },
  },
  snippets: {
    get: [{ who: 'admin', params: [] }],
    post: {
      create: [{ who: 'admin', base: () => ({ name: `made snippet ${++snippetSeq}`, body: 'Hello {player}, this is {staff} on {ticket}' }), fields: ['name', 'body'] }],
      update: [{ who: 'admin', base: () => ({ snippet_id: freshSnippet(), name: `renamed snippet ${++snippetSeq}`, body: 'Changed text' }), fields: ['snippet_id', 'name', 'body'] }],
      delete: [{ who: 'admin', base: () => ({ snippet_id: freshSnippet() }), fields: ['snippet_id'] }],
    },
  },
  settings: {
    get: [{ who: 'player', params: [] }],
    post: {
      language: [{ who: 'player', base: () => ({ locale: 'en' }), fields: ['locale'] }],
      email: [{ who: 'player', base: () => ({ email: 'player@example.com' }), fields: ['email'] }],
      notifications: [{ who: 'player', base: () => ({ notify_email: 'on' }), fields: ['notify_email', 'notify_telegram'] }],
      telegram_link: [{ who: 'player', base: () => ({}), fields: [] }],
      telegram_unlink: [{ who: 'player', base: () => ({}), fields: [] }],
      password: [
        {
          who: 'player',
          base: () => ({ current_password: 'not my password', new_password: 'a new long password', confirm_password: 'a new long password' }),
          fields: ['current_password', 'new_password', 'confirm_password'],
          together: true,
          secret: true,
        },
      ],
    },
  },
  verify_email: { get: [{ who: 'anonymous', params: ['token'] }] },
  audit: { get: [{ who: 'admin', params: ['actor', 'action', 'ticket', 'date_from', 'date_to', 'page', 'format'] }] },
  stats: { get: [{ who: 'staff', params: ['from', 'to', 'format'] }] },
};

// ---------------------------------------------------------------------------------------------
// Requests, and what is checked around each of them.

interface Req {
  label: string;
  method: 'GET' | 'POST';
  path: string;
  who?: Who;
  /** Game API: the bearer token. */
  bearer?: boolean;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Watched changes this request may make even when refused or a GET (e.g. a whisper lease). */
  mayChange?: string[];
  /** The request must be refused (4xx). */
  mustRefuse?: boolean;
  /** Extra check of the answer (and, run alone, of what it stored): a problem, or undefined. */
  verify?: (reply: Reply, before: Snapshot) => string | undefined;
}

interface Reply {
  status: number;
  text: string;
  headers: Headers;
}

type Snapshot = ChangeSnapshot;

const stats = { requests: 0, web: 0, game: 0, files: 0, byClass: new Map<string, number>(), fiveXx: 0, leaks: 0, refused: 0, accepted: 0 };
const failures: string[] = [];

function fail(message: string): void {
  failures.push(message);
}

let watch: ChangeWatch;

function one<T>(sql: string, ...args: unknown[]): T {
  return db.prepare(sql).get(...args) as T;
}

function snapshot(): Snapshot {
  return watch.snapshot();
}

/** What changed between two snapshots that `batch` did not have the right to change. */
function unexpectedChanges(before: Snapshot, after: Snapshot, batch: Req[]): string[] {
  return watch.changes(before, after, {
    allow: batch.flatMap((r) => r.mayChange ?? []),
    // Reading a file is audited even when the request adds a hostile parameter.
    allowAudit: batch.some((r) => r.method === 'GET') ? ['attachment.download'] : [],
  });
}

function cookieHeader(client: Client): string {
  return [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

let forwardedSeq = 0;

async function send(r: Req): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', ...r.headers };
  if (r.who && clients[r.who].cookies.size) headers.cookie = cookieHeader(clients[r.who]);
  if (r.bearer) headers.authorization = `Bearer ${GAME_TOKEN}`;
  // Sign-in attempts come "through the proxy" from many addresses, so the per-address limit
  // (10 failures a minute) does not turn the rest of the corpus into 429s.
  if (r.who === 'anonymous' && r.method === 'POST') {
    forwardedSeq++;
    headers['x-forwarded-for'] = `10.${(forwardedSeq >> 16) & 255}.${(forwardedSeq >> 8) & 255}.${forwardedSeq & 255}`;
  }
  // A request the server leaves hanging fails here instead of waiting for Node's 5-minute timeout.
  const response = await fetch(new URL(r.path, app.url), { method: r.method, headers, body: r.body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function record(r: Req, reply: Reply): void {
  // HOSTILE_DUMP=file: every status and label, for reading what was accepted and refused.
  if (process.env.HOSTILE_DUMP) fs.appendFileSync(process.env.HOSTILE_DUMP, `${reply.status}\t${r.label}\n`);
  stats.requests++;
  if (r.bearer) stats.game++;
  else stats.web++;
  const cls = `${Math.floor(reply.status / 100)}xx`;
  stats.byClass.set(cls, (stats.byClass.get(cls) ?? 0) + 1);
  if (reply.status >= 500) {
    stats.fiveXx++;
    fail(`${r.label}: ${reply.status} ${reply.text.slice(0, 200)}`);
  }
  const leaks = leaksIn(reply.text);
  if (leaks.length) {
    stats.leaks++;
    fail(`${r.label}: the answer shows ${leaks.join(', ')}`);
  }
  if (reply.status >= 400) stats.refused++;
  else stats.accepted++;
  if (r.mustRefuse && reply.status < 400) fail(`${r.label}: accepted (${reply.status}) but must be refused`);
}

/**
 * Runs `batch` concurrently. If none of it was an accepted POST, nothing watched may have changed;
 * otherwise each refused request of the batch runs again alone, where a change is its own.
 */
async function runBatch(batch: Req[]): Promise<void> {
  const before = snapshot();
  let replies: Reply[];
  try {
    replies = await Promise.all(batch.map(send));
  } catch (err) {
    fail(`${batch.map((r) => r.label).join(' | ')}: request failed: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`);
    return;
  }
  const after = snapshot();
  batch.forEach((r, i) => record(r, replies[i]!));
  if (batch.length > 1) {
    batch.forEach((r, i) => {
      const problem = r.verify?.(replies[i]!, before);
      if (problem) fail(`${r.label}: ${problem}`);
    });
  }
  const accepted = batch.filter((r, i) => r.method === 'POST' && replies[i]!.status < 400);
  if (batch.length === 1) {
    const r = batch[0]!;
    const reply = replies[0]!;
    if (accepted.length === 0) {
      const problems = unexpectedChanges(before, after, batch);
      if (problems.length) fail(`${r.label}: ${reply.status} but changed ${problems.join('; ')}`);
    }
    const problem = r.verify?.(reply, before);
    if (problem) fail(`${r.label}: ${problem}`);
    return;
  }
  if (accepted.length === 0) {
    const problems = unexpectedChanges(before, after, batch);
    if (problems.length === 0) return;
  }
  // Someone in the batch stored something: find out who, one at a time (not counted twice).
  for (const [i, r] of batch.entries()) {
    if (r.method === 'POST' && replies[i]!.status < 400) continue;
    const alone = snapshot();
    const reply = await send(r);
    if (reply.status >= 500) fail(`${r.label} (run again alone): ${reply.status}`);
    if (reply.status >= 400 || r.method === 'GET') {
      const problems = unexpectedChanges(alone, snapshot(), [r]);
      if (problems.length) fail(`${r.label}: ${reply.status} but changed ${problems.join('; ')}`);
    }
  }
}

async function runAll(requests: Req[], concurrency: number): Promise<void> {
  for (let i = 0; i < requests.length; i += concurrency) await runBatch(requests.slice(i, i + concurrency));
}

// ---------------------------------------------------------------------------------------------
// Building the requests.

// The 2 MB value goes once to each body parser (dispatcherRequests, the game API's whole bodies):
// the body limits are per parser, not per field.
const VALUES = hostileValues();
const TWO_MB = 'y'.repeat(2 * 1024 * 1024);
const SHAPED_VALUE: HostileValue = { label: 'xss', kind: 'xss', text: '<script>alert("shape")</script>' };

interface Variant {
  label: string;
  value: HostileValue;
  shape?: FieldShape;
}

function variants(options: { inUrl: boolean }): Variant[] {
  const list: Variant[] = VALUES.filter((v) => !(options.inUrl && v.bodyOnly)).map((value) => ({ label: value.label, value }));
  for (const shape of FIELD_SHAPES) list.push({ label: `shape ${shape}`, value: SHAPED_VALUE, shape });
  return list;
}

function indexPath(view: string, action: string | undefined, query: FormEntry[] = []): string {
  const entries: FormEntry[] = [['view', view]];
  if (action && action !== 'default') entries.push(['action', action]);
  return `/index.php?${urlEncode([...entries, ...query])}`;
}

function formBody(spec: FormSpec, entries: FormEntry[], files: HostileFile[] = []): { body: Buffer | string; headers: Record<string, string> } {
  if (spec.multipart) {
    const { body, contentType } = multipartBody(entries, files.map((f) => ({ name: f.name, content: f.content, type: f.type, field: f.field })));
    return { body, headers: { 'content-type': contentType } };
  }
  return { body: urlEncode(entries), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}

function withCsrf(spec: FormSpec, entries: FormEntry[]): FormEntry[] {
  return [['_csrf', tokens[spec.who]], ...entries];
}

/** For password fields: the answer does not show the submitted value. */
function secretCheck(spec: FormSpec, v: Variant): Req['verify'] {
  const text = v.value.text;
  // (A value that could be a username may be on the users list for that reason.)
  if (!spec.secret || text === undefined || text.trim().length < 8 || /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u.test(text.trim())) return undefined;
  const shown = escapeHtml(text.normalize('NFC'));
  return (reply) => (reply.text.includes(shown) || reply.text.includes(text) ? 'the answer shows the submitted password' : undefined);
}

function postRequests(view: string, action: string, spec: FormSpec): Req[] {
  const requests: Req[] = [];
  const name = `POST ${view}${action === 'default' ? '' : `:${action}`} as ${spec.who}`;
  const queryBase = (): FormEntry[] => Object.entries(spec.query?.() ?? {});
  if (spec.endsSession) return requests;
  if (spec.together) {
    for (const v of variants({ inUrl: false })) {
      const entries: FormEntry[] = Object.entries(spec.base()).filter(([key]) => !spec.fields.includes(key));
      for (const field of spec.fields) entries.push(...withField({}, field, v.value, v.shape));
      const { body, headers } = formBody(spec, withCsrf(spec, entries));
      requests.push({ label: `${name} [${spec.fields.join('+')}] = ${v.label}`, method: 'POST', path: indexPath(view, action, queryBase()), who: spec.who, body, headers, verify: secretCheck(spec, v) });
    }
  } else {
    for (const field of spec.fields) {
      for (const v of variants({ inUrl: false })) {
        const { body, headers } = formBody(spec, withCsrf(spec, withField(spec.base(), field, v.value, v.shape)));
        requests.push({ label: `${name} [${field}] = ${v.label}`, method: 'POST', path: indexPath(view, action, queryBase()), who: spec.who, body, headers, verify: secretCheck(spec, v) });
      }
    }
  }
  for (const field of spec.queryFields ?? []) {
    for (const v of variants({ inUrl: true })) {
      const query = withField(Object.fromEntries(queryBase()) as Record<string, string>, field, v.value, v.shape);
      const { body, headers } = formBody(spec, withCsrf(spec, Object.entries(spec.base())));
      requests.push({ label: `${name} [?${field}] = ${v.label}`, method: 'POST', path: indexPath(view, action, query), who: spec.who, body, headers });
    }
  }
  // Fields nobody asked for (and prototype keys, which some body parsers turn into objects).
  for (const [key, value] of [
    ['unknown_field', '<script>alert("unknown")</script>'],
    ['constructor', 'x'],
    ['toString', 'x'],
    ['__proto__[polluted]', 'yes'],
    ['constructor[prototype][polluted]', 'yes'],
  ] as const) {
    const { body, headers } = formBody(spec, withCsrf(spec, [...Object.entries(spec.base()), [key, value]]));
    requests.push({ label: `${name} [${key}]`, method: 'POST', path: indexPath(view, action, queryBase()), who: spec.who, body, headers });
  }
  return requests;
}

function getRequests(view: string, spec: GetSpec): Req[] {
  const requests: Req[] = [];
  const base = spec.base?.() ?? {};
  for (const param of spec.params) {
    for (const v of variants({ inUrl: true })) {
      requests.push({ label: `GET ${view} as ${spec.who} [?${param}] = ${v.label}`, method: 'GET', path: indexPath(view, undefined, withField(base, param, v.value, v.shape)), who: spec.who });
    }
  }
  requests.push({ label: `GET ${view} as ${spec.who} [?unknown]`, method: 'GET', path: indexPath(view, undefined, [...Object.entries(base), ['unknown', '<script>alert(1)</script>']]), who: spec.who });
  return requests;
}

/** Every POST spec, for the requests that attack the dispatcher itself (CSRF, action). */
function allPostSpecs(): { view: string; action: string; spec: FormSpec }[] {
  return Object.entries(FIELDS).flatMap(([view, fields]) => Object.entries(fields.post ?? {}).flatMap(([action, specs]) => specs.map((spec) => ({ view, action, spec }))));
}

function dispatcherRequests(): Req[] {
  const requests: Req[] = [];
  const posts = allPostSpecs();
  const withActions = posts.filter(({ view }) => typeof VIEWS[view]?.post === 'object');
  VALUES.forEach((value, i) => {
    // A hostile CSRF token is refused, whatever the form.
    const target = posts[i % posts.length]!;
    const entries: FormEntry[] = [['_csrf', value], ...Object.entries(target.spec.base())];
    const { body, headers } = formBody(target.spec, entries);
    requests.push({ label: `POST ${target.view}:${target.action} [_csrf] = ${value.label}`, method: 'POST', path: indexPath(target.view, target.action, Object.entries(target.spec.query?.() ?? {})), who: target.spec.who, body, headers, mustRefuse: true });
    // A hostile action, in the query or the body.
    const acting = withActions[i % withActions.length]!;
    const inBody = i % 2 === 1;
    const actionEntries: FormEntry[] = [['_csrf', tokens[acting.spec.who]], ...Object.entries(acting.spec.base()), ...(inBody ? ([['action', value]] as FormEntry[]) : [])];
    const form = formBody(acting.spec, actionEntries);
    const query: FormEntry[] = [['view', acting.view], ...(inBody ? [] : ([['action', value]] as FormEntry[])), ...Object.entries(acting.spec.query?.() ?? {})];
    requests.push({ label: `POST ${acting.view} [action${inBody ? ' in body' : ''}] = ${value.label}`, method: 'POST', path: `/index.php?${urlEncode(query)}`, who: acting.spec.who, body: form.body, headers: form.headers, mustRefuse: true });
    // A hostile view name.
    if (!value.bodyOnly) requests.push({ label: `GET [?view] = ${value.label}`, method: 'GET', path: `/index.php?${urlEncode([['view', value]])}`, who: 'player' });
  });
  for (const shape of FIELD_SHAPES) {
    requests.push({ label: `GET [?view] shape ${shape}`, method: 'GET', path: `/index.php?${urlEncode(withField({}, 'view', 'tickets', shape))}`, who: 'player' });
    requests.push({ label: `POST [_csrf] shape ${shape}`, method: 'POST', path: indexPath('settings', 'notifications'), who: 'player', body: urlEncode(withField({ notify_email: 'on' }, '_csrf', tokens.player, shape)), headers: { 'content-type': 'application/x-www-form-urlencoded' }, mustRefuse: true });
  }
  // Malformed bodies and encodings.
  const form = (body: string | Buffer, headers: Record<string, string>, label: string, mustRefuse = true): Req => ({ label: `POST settings:notifications ${label}`, method: 'POST', path: indexPath('settings', 'notifications'), who: 'player', body, headers, mustRefuse });
  const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
  requests.push(
    form(gzipBomb(), { ...urlencoded, 'content-encoding': 'gzip' }, 'gzip bomb body'),
    form(`_csrf=${tokens.player}&notify_email=on`, { ...urlencoded, 'content-encoding': 'x-unknown' }, 'unknown content-encoding'),
    form(`_csrf=${tokens.player}&notify_email=%ZZ%`, urlencoded, 'bad percent-encoding', false),
    form(`_csrf=${tokens.player}&notify_email=on`, { 'content-type': 'application/x-www-form-urlencoded; charset=x-unknown' }, 'unknown charset'),
    form(Buffer.from(`_csrf=${tokens.player}&notify_email=on`, 'utf16le'), { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16le' }, 'utf-16 body', false),
    form(JSON.stringify({ _csrf: tokens.player, notify_email: 'on' }), { 'content-type': 'application/json' }, 'JSON body'),
    form(`_csrf=${tokens.player}&notify_email=on`, { 'content-type': 'text/plain' }, 'text/plain body'),
    form(`${'a=1&'.repeat(500)}_csrf=${tokens.player}`, urlencoded, '500 parameters'),
    form(`_csrf=${tokens.player}&notify_email=${TWO_MB}`, urlencoded, '2 MB urlencoded body'),
    form('--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nabc', { 'content-type': 'multipart/form-data' }, 'multipart without boundary'),
  );
  const multipartTarget = posts.find(({ view, action }) => view === 'ticket' && action === 'reply')!;
  const multipartPath = indexPath('ticket', 'reply', Object.entries(multipartTarget.spec.query?.() ?? {}));
  const truncated = multipartBody([['_csrf', tokens.player], ['message', 'cut short']], [{ name: 'a.png', content: PNG_BYTES }]);
  const manyParts = multipartBody([['_csrf', tokens.player], ['message', 'many parts'], ...Array.from({ length: 40 }, (_, i): FormEntry => [`f${i}`, 'x'])]);
  const longName = multipartBody([['_csrf', tokens.player], ['message', 'long field name'], ['n'.repeat(300), 'x']]);
  const bigField = multipartBody([['_csrf', tokens.player], ['message', TWO_MB]]);
  requests.push(
    { label: 'POST ticket:reply truncated multipart', method: 'POST', path: multipartPath, who: 'player', body: truncated.body.subarray(0, truncated.body.length - 60), headers: { 'content-type': truncated.contentType }, mustRefuse: true },
    { label: 'POST ticket:reply 40 extra parts', method: 'POST', path: multipartPath, who: 'player', body: manyParts.body, headers: { 'content-type': manyParts.contentType }, mustRefuse: true },
    { label: 'POST ticket:reply 300-char field name', method: 'POST', path: multipartPath, who: 'player', body: longName.body, headers: { 'content-type': longName.contentType }, mustRefuse: true },
    { label: 'POST ticket:reply 2 MB multipart field', method: 'POST', path: multipartPath, who: 'player', body: bigField.body, headers: { 'content-type': bigField.contentType }, mustRefuse: true },
  );
  // Paths around the dispatcher: traversal out of /static, odd bytes, other methods.
  for (const p of ['/static/..%2f..%2fpackage.json', '/static/%2e%2e/%2e%2e/package.json', '/static/app.js%00.png', '/static/..%5c..%5cpackage.json', '/%FF', '/index.php%00', '/index.php/..%2fpackage.json', '/uploads/x', '/api/game/..%2f..%2findex.php', '/%2e%2e/%2e%2e/etc/passwd']) {
    requests.push({
      label: `GET ${p}`,
      method: 'GET',
      path: p,
      who: 'player',
      verify: (reply) => (/"name": "ticketbridge"|root:x:0:0/.test(reply.text) ? 'served a file from outside public/' : undefined),
    });
  }
  return requests;
}

// Game API ---------------------------------------------------------------------------------------

const JSON_TOKENS: { label: string; raw: string }[] = [
  { label: 'JSON 1e309', raw: '1e309' },
  { label: 'JSON 20-digit number', raw: '99999999999999999999' },
  { label: 'JSON -0', raw: '-0' },
  { label: 'JSON 1.5', raw: '1.5' },
  { label: 'JSON -1', raw: '-1' },
  { label: 'JSON 0', raw: '0' },
  { label: 'JSON hex (invalid JSON)', raw: '0x10' },
  { label: 'JSON null', raw: 'null' },
  { label: 'JSON true', raw: 'true' },
  { label: 'JSON empty array', raw: '[]' },
  { label: 'JSON array of strings', raw: '["a","b"]' },
  { label: 'JSON object', raw: '{"b":"c"}' },
  { label: 'JSON __proto__ object', raw: '{"__proto__":{"polluted":true}}' },
  { label: 'JSON deep nesting', raw: `${'['.repeat(5000)}${']'.repeat(5000)}` },
];

function jsonRaw(value: HostileValue): Buffer {
  if (value.bytes) return Buffer.concat([Buffer.from('"'), value.bytes, Buffer.from('"')]);
  return Buffer.from(JSON.stringify(value.text ?? ''));
}

function jsonObject(entries: [string, Buffer | string][]): Buffer {
  const parts: Buffer[] = [Buffer.from('{')];
  entries.forEach(([key, raw], i) => parts.push(Buffer.from(`${i ? ',' : ''}${JSON.stringify(key)}:`), Buffer.isBuffer(raw) ? raw : Buffer.from(raw)));
  parts.push(Buffer.from('}'));
  return Buffer.concat(parts);
}

let charSeq = 160_000;
const GAME_FIELDS = ['action', 'via', 'account_id', 'char_id', 'name', 'message', 'request_id'];
const LOGOUT_FIELDS = ['action', 'account_id', 'char_id', 'name', 'request_id'];

function gameBase(field: string): Record<string, string> {
  // A new character for name payloads (each opens its own ticket and Discord channel).
  const charId = field === 'name' || field === 'char_id' ? ++charSeq : 150_001;
  return { action: '"ticket"', via: '"pm"', account_id: '2000001', char_id: String(charId), name: '"Hostile Player"', message: '"hello from the game"' };
}

function gameRequests(): Req[] {
  const requests: Req[] = [];
  const json = { 'content-type': 'application/json' };
  const actionsReq = (label: string, body: Buffer | string, headers: Record<string, string> = json): Req => ({ label: `POST /api/game/actions ${label}`, method: 'POST', path: '/api/game/actions', bearer: true, body, headers });
  const jsonValues = [...VALUES.map((v) => ({ label: v.label, raw: jsonRaw(v) })), ...JSON_TOKENS.map((t) => ({ label: t.label, raw: Buffer.from(t.raw) }))];
  for (const field of GAME_FIELDS) {
    for (const v of jsonValues) {
      const base = gameBase(field);
      const entries: [string, Buffer | string][] = Object.entries(base).filter(([key]) => key !== field);
      entries.push([field, v.raw]);
      requests.push(actionsReq(`JSON ticket [${field}] = ${v.label}`, jsonObject(entries)));
    }
    // The bracket text form (on the one character: new channels for names are the JSON part's).
    for (const v of VALUES) {
      const base = { ...gameBase(field), char_id: '150001' };
      const plain: Record<string, string> = Object.fromEntries(Object.entries(base).map(([key, raw]) => [key, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]));
      const parts: Buffer[] = [];
      for (const key of ['action', 'via', 'account_id', 'char_id', 'name', 'request_id', 'message']) {
        if (key === field) parts.push(Buffer.from(`[${key}: `), v.bytes ?? Buffer.from(v.text ?? ''), Buffer.from(']'));
        else if (plain[key] !== undefined) parts.push(Buffer.from(`[${key}: ${plain[key]}]`));
      }
      requests.push(actionsReq(`bracket ticket [${field}] = ${v.label}`, Buffer.concat(parts), { 'content-type': 'text/plain' }));
    }
  }
  for (const field of LOGOUT_FIELDS) {
    for (const v of jsonValues) {
      const base: Record<string, string> = { action: '"logout"', account_id: '2000001', char_id: '150002', name: '"Hostile Player"' };
      const entries: [string, Buffer | string][] = Object.entries(base).filter(([key]) => key !== field);
      entries.push([field, v.raw]);
      requests.push(actionsReq(`JSON logout [${field}] = ${v.label}`, jsonObject(entries)));
    }
  }
  requests.push(actionsReq('JSON unknown field', '{"action":"ticket","via":"pm","account_id":2000001,"char_id":150001,"name":"Hostile Player","message":"x","admin":true}'));
  requests.push(actionsReq('JSON __proto__ key', '{"action":"ticket","via":"pm","account_id":2000001,"char_id":150001,"name":"Hostile Player","message":"x","__proto__":{"polluted":true}}'));
  requests.push(actionsReq('JSON duplicate action', '{"action":"logout","action":"ticket","via":"pm","account_id":2000001,"char_id":150001,"name":"Hostile Player","message":"dup"}'));
  // Whole bodies.
  for (const [label, body, headers] of [
    ['empty JSON body', '', json],
    ['invalid JSON', '{"action":', json],
    ['JSON array', '[{"action":"ticket"}]', json],
    ['JSON string', '"ticket"', json],
    ['JSON null', 'null', json],
    ['BOM before JSON', '\ufeff{"action":"logout","account_id":1,"char_id":1,"name":"x"}', json],
    ['deeply nested JSON', `${'['.repeat(30_000)}${']'.repeat(30_000)}`, json],
    ['2 MB JSON', `{"action":"ticket","message":"${TWO_MB}"}`, json],
    ['2 MB bracket form', `[action: ticket][message: ${TWO_MB}]`, { 'content-type': 'text/plain' }],
    ['gzip bomb', gzipBomb(), { ...json, 'content-encoding': 'gzip' }],
    ['unknown charset', '{}', { 'content-type': 'application/json; charset=x-unknown' }],
    ['UTF-16 JSON', Buffer.from('{"action":"logout","account_id":1,"char_id":1,"name":"x"}', 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' }],
    ['XML body', '<action>ticket</action>', { 'content-type': 'application/xml' }],
    ['no content type', 'x', {}],
    ['bracket form with no brackets', 'just text', { 'content-type': 'text/plain' }],
    ['bracket form unclosed', '[action: ticket][message: open', { 'content-type': 'text/plain' }],
    ['bracket form repeated key', '[action: ticket][action: logout]', { 'content-type': 'text/plain' }],
    ['bracket form upper-case keys', '[ACTION: ticket][VIA: pm][ACCOUNT_ID: 2000001][CHAR_ID: 150001][NAME: Hostile Player][MESSAGE: upper]', { 'content-type': 'text/plain' }],
    ['bracket form __proto__ key', '[__proto__: x][action: ticket]', { 'content-type': 'text/plain' }],
  ] as [string, string | Buffer, Record<string, string>][]) {
    requests.push(actionsReq(label, body, headers));
  }
  // The long poll and the ack.
  for (const param of ['wait', 'limit']) {
    for (const v of variants({ inUrl: true })) {
      const query = withField({ wait: '0', limit: '50' }, param, v.value, v.shape);
      requests.push({ label: `GET /api/game/whispers [?${param}] = ${v.label}`, method: 'GET', path: `/api/game/whispers?${urlEncode(query)}`, bearer: true, mayChange: ['game_whispers LEASE'] });
    }
  }
  for (const v of jsonValues) {
    requests.push({ label: `POST /api/game/whispers/ack {ids: ${v.label}}`, method: 'POST', path: '/api/game/whispers/ack', bearer: true, body: jsonObject([['ids', v.raw]]), headers: json });
    requests.push({ label: `POST /api/game/whispers/ack {ids: [${v.label}]}`, method: 'POST', path: '/api/game/whispers/ack', bearer: true, body: jsonObject([['ids', Buffer.concat([Buffer.from('['), v.raw, Buffer.from(']')])]]), headers: json });
  }
  requests.push({ label: 'POST /api/game/whispers/ack unknown field', method: 'POST', path: '/api/game/whispers/ack', bearer: true, body: '{"ids":[1],"all":true}', headers: json });
  requests.push({ label: 'POST /api/game/whispers/ack 1001 ids', method: 'POST', path: '/api/game/whispers/ack', bearer: true, body: JSON.stringify({ ids: Array.from({ length: 1001 }, (_, i) => i + 1) }), headers: json });
  return requests;
}

// Cookies and headers -------------------------------------------------------------------------------

/**
 * A payload as a header value: its UTF-8 bytes as they come (a header is bytes, not text), less the
 * control bytes an HTTP client refuses to send (all but tab), or percent-encoded.
 */
function headerForms(value: HostileValue): { label: string; text: string }[] {
  const bytes = value.bytes ?? Buffer.from(value.text ?? '', 'utf8');
  // eslint-disable-next-line no-control-regex -- the bytes fetch refuses in a header
  const raw = bytes.toString('latin1').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
  return [
    { label: `${value.label} (raw bytes)`, text: raw },
    { label: `${value.label} (percent-encoded)`, text: [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('') },
  ].filter((form) => form.text.length <= 8 * 1024);
}

/** Every payload in every cookie the app reads (and one it does not), and in the headers it reads or a proxy sets. */
function cookieAndHeaderRequests(): Req[] {
  const requests: Req[] = [];
  const session = () => cookieHeader(clients.player);
  const targets = [
    { label: 'GET tickets', method: 'GET' as const, path: indexPath('tickets', undefined), body: undefined, headers: {} as Record<string, string> },
    {
      label: 'POST settings:notifications',
      method: 'POST' as const,
      path: indexPath('settings', 'notifications'),
      body: urlEncode([['_csrf', tokens.player], ['notify_email', 'on']]),
      headers: { 'content-type': 'application/x-www-form-urlencoded' } as Record<string, string>,
    },
  ];
  const HEADERS = ['accept-language', 'user-agent', 'referer', 'accept', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'origin', 'if-none-match', 'range', 'x-csrf-token'];
  for (const target of targets) {
    for (const value of VALUES) {
      for (const form of headerForms(value)) {
        for (const cookie of ['tb_sidebar', 'tb_session', 'other']) {
          const header = cookie === 'tb_session' ? `tb_session=${form.text}` : `${session()}; ${cookie}=${form.text}`;
          requests.push({ ...target, label: `${target.label} cookie ${cookie} = ${form.label}`, headers: { ...target.headers, cookie: header } });
        }
        for (const name of HEADERS) {
          requests.push({ ...target, label: `${target.label} header ${name} = ${form.label}`, headers: { ...target.headers, cookie: session(), [name]: form.text } });
        }
      }
    }
    // Whole Cookie headers that no browser would send.
    for (const [label, header] of [
      ['a cut-short escape', 'tb_sidebar=%E0%A4%A'],
      ['only separators', '=;=;;; ;='],
      ['no names', '=collapsed; =x'],
      ['500 cookies', Array.from({ length: 500 }, (_, i) => `c${i}=${i}`).join('; ')],
      ['a quoted value', 'tb_sidebar="collapsed'],
      ['the same cookie twice', 'tb_sidebar=collapsed; tb_sidebar=%ZZ'],
    ] as const) {
      requests.push({ ...target, label: `${target.label} Cookie: ${label}`, headers: { ...target.headers, cookie: `${session()}; ${header}` } });
    }
  }
  return requests;
}

// Files --------------------------------------------------------------------------------------------

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function fileRequests(): Req[] {
  const requests: Req[] = [];
  const targets = allPostSpecs().filter(({ spec }) => spec.files);
  const files = hostileFiles(MAX_BYTES);
  for (const { view, action, spec } of targets) {
    const requestPath = indexPath(view, action, Object.entries(spec.query?.() ?? {}));
    for (const file of files) {
      const { body, headers } = formBody(spec, withCsrf(spec, Object.entries(spec.base())), [file]);
      requests.push({
        label: `POST ${view}:${action} as ${spec.who} file ${file.label}`,
        method: 'POST',
        path: requestPath,
        who: spec.who,
        body,
        headers,
        mustRefuse: file.expect === 'refuse',
        verify: (reply, before) => verifyFile(file, reply, before),
      });
    }
    const tooMany = Array.from({ length: MAX_FILES + 1 }, (_, i): HostileFile => ({ label: 'png', name: `shot${i}.png`, content: PNG_BYTES, expect: 'refuse' }));
    const { body, headers } = formBody(spec, withCsrf(spec, Object.entries(spec.base())), tooMany);
    requests.push({ label: `POST ${view}:${action} as ${spec.who} ${MAX_FILES + 1} files`, method: 'POST', path: requestPath, who: spec.who, body, headers, mustRefuse: true });
  }
  stats.files = requests.length;
  return requests;
}

/** A stored file is kept byte for byte (never unpacked), under a random name, with a clean display name. */
function verifyFile(file: HostileFile, reply: Reply, before: Snapshot): string | undefined {
  const rows = db.prepare('SELECT storage_name AS storageName, original_name AS originalName, size_bytes AS size, sha256 FROM attachments WHERE id > ?').all(before.attachment) as { storageName: string; originalName: string; size: number; sha256: string }[];
  if (reply.status >= 400) return rows.length ? `refused (${reply.status}) but stored ${rows.length} attachment rows` : undefined;
  if (file.expect === 'refuse') return undefined; // reported by mustRefuse
  if (rows.length !== 1) return `stored ${rows.length} attachment rows for one file`;
  const row = rows[0]!;
  const problems: string[] = [];
  if (file.storedName !== undefined && row.originalName !== file.storedName) problems.push(`display name ${JSON.stringify(row.originalName)}, expected ${JSON.stringify(file.storedName)}`);
  // eslint-disable-next-line no-control-regex -- control characters are what must not be there
  if (/[/\\\u0000-\u001f]/.test(row.originalName)) problems.push(`display name keeps a path or control character: ${JSON.stringify(row.originalName)}`);
  if (!/^[\w-]{20,}$/.test(row.storageName)) problems.push(`storage name not random: ${row.storageName}`);
  const stored = path.join(app.config.uploadsDir, row.storageName);
  if (!fs.existsSync(stored)) problems.push('file row without its file');
  else {
    const data = fs.readFileSync(stored);
    if (data.length !== file.content.length || sha256(data) !== sha256(file.content) || row.sha256 !== sha256(file.content)) problems.push('stored bytes differ from the upload (unpacked or altered)');
  }
  const added = uploadedFiles(app.config.uploadsDir).filter((name) => !before.files.split(',').includes(name));
  if (added.length !== 1) problems.push(`${added.length} files added to the uploads folder for one attachment`);
  return problems.length ? problems.join('; ') : undefined;
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  setup = await startBridged({
    dir: tempDir('tb-hostile-'),
    env: {
      TELEGRAM_BOT_TOKEN: '123456:hostile-test-token-abcdefghij',
      UPLOAD_MAX_BYTES: String(MAX_BYTES),
      UPLOAD_MAX_FILES: String(MAX_FILES),
      LOG_LEVEL: 'info',
    },
    app: { telegramBotUsername: () => 'hostile_test_bot' },
  });
  ({ fake, app, bridge } = setup);
  db = app.db;

  const player = await addUser(db, 'hostile_player', PASSWORD);
  playerUser = player;
  await addUser(db, 'hostile_staff', PASSWORD, 'staff');
  await addUser(db, 'hostile_admin', PASSWORD, 'admin');
  ids.victim = String((await addUser(db, 'hostile_victim', PASSWORD)).id);
  for (const who of ['player', 'staff', 'admin'] as const) {
    clients[who] = new Client(app.url);
    const signIn = await clients[who].login(`hostile_${who}`);
    assert.equal(signIn.status, 303);
    tokens[who] = await clients[who].csrf('/index.php?view=settings');
  }
  clients.anonymous = new Client(app.url);
  tokens.anonymous = await clients.anonymous.csrf('/index.php?view=login');

  // The player's tickets: one to answer (with a file), one to close; and a game ticket for Support.
  const created = await clients.player.postMultipart('/index.php?view=ticket_create', { _csrf: tokens.player, subject: 'Reply target', message: 'First message' }, [{ name: 'screen.png', content: PNG_BYTES, type: 'image/png' }]);
  assert.equal(created.status, 303);
  ids.reply = /id=(\d+)/.exec(created.location ?? '')![1]!;
  ids.attachment = String(one<{ id: number }>('SELECT id FROM attachments WHERE ticket_id = ?', Number(ids.reply)).id);
  ids.close = String(createWebTicket(db, { user: player, subject: 'Close target', body: 'To be closed', priority: 'normal', uploads: [] }, { ip: null }));
  ids.rate = String(createWebTicket(db, { user: player, subject: 'Rate target', body: 'To be rated', priority: 'normal', uploads: [] }, { ip: null }));
  closeTicket(db, Number(ids.rate), { id: player.id, username: player.username }, { ip: null }, { email: false, telegram: false });
  const game = await fetch(`${app.url}/api/game/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'ticket', via: 'pm', account_id: 2000001, char_id: 150001, name: 'Hostile Player', message: 'I need help' }),
  });
  ids.game = String(((await game.json()) as { ticket_id: number }).ticket_id);
  // Logout payloads close this character's ticket.
  await fetch(`${app.url}/api/game/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'ticket', via: 'pm', account_id: 2000001, char_id: 150002, name: 'Logout Player', message: 'bye soon' }),
  });
  // The guild's settings row exists before any page reads it (reading creates it once).
  guildSettings(db, fake.guildId, true);
  watch = new ChangeWatch(db, app.config.uploadsDir, app.dir);
});

after(async () => {
  await setup?.close();
});

test('every view and action of VIEWS has a field list here', () => {
  const missing: string[] = [];
  for (const [view, route] of Object.entries(VIEWS)) {
    const fields = FIELDS[view];
    if (route.get && !fields?.get?.length) missing.push(`GET ${view}`);
    const actions = typeof route.post === 'function' ? ['default'] : Object.keys(route.post ?? {});
    for (const action of actions) if (!fields?.post?.[action]?.length) missing.push(`POST ${view}${action === 'default' ? '' : ` action=${action}`}`);
    for (const action of Object.keys(fields?.post ?? {})) if (!actions.includes(action)) missing.push(`stale entry POST ${view} ${action}`);
  }
  for (const view of Object.keys(FIELDS)) if (!Object.hasOwn(VIEWS, view)) missing.push(`stale entry ${view}`);
  assert.deepEqual(missing, [], 'add these to FIELDS in test/integration/hostileInput.test.ts (read the handler for its fields)');
});

test('the corpus itself looks like no leak (so a hit is the app, not the payload)', () => {
  for (const v of VALUES) if (v.text !== undefined) assert.deepEqual(leaksIn(v.text), [], v.label);
  assert.ok(VALUES.length >= 80, `${VALUES.length} payloads`);
});

test('GET views: every query parameter, every payload', async () => {
  const requests = Object.entries(FIELDS).flatMap(([view, fields]) => (fields.get ?? []).flatMap((spec) => getRequests(view, spec)));
  await runAll(requests, 8);
});

test('game API: every JSON and bracket field, the long poll and the ack', async () => {
  await runAll(gameRequests(), 1);
});

test('POST actions: every form field and query parameter, every payload', async () => {
  const scrypt: Req[] = [];
  const concurrent: Req[] = [];
  const plain: Req[][] = [];
  for (const { view, action, spec } of allPostSpecs()) {
    if (spec.together) scrypt.push(...postRequests(view, action, spec));
    // Creating accounts hashes each password: concurrently, refused ones re-checked alone.
    else if (view === 'users' && action === 'create') concurrent.push(...postRequests(view, action, spec));
    else plain.push(postRequests(view, action, spec));
  }
  await runAll(scrypt, 6);
  await runAll(concurrent, 4);
  for (const requests of plain) await runAll(requests, 1);
  // The templates go back to the seed's texts for the game API part.
  const restore = await clients.admin.post('/index.php?view=admin', { _csrf: tokens.admin, ...ADMIN_TEMPLATES, close_on_logout: 'on' });
  assert.equal(restore.status, 303);
});

test('the dispatcher itself: hostile CSRF tokens, actions, view names, bodies and paths', async () => {
  await runAll(dispatcherRequests(), 1);
});

test('cookies and headers: every payload in every cookie and in the headers the app or a proxy reads', async () => {
  await runAll(cookieAndHeaderRequests(), 8);
});

test('attachments: zip bombs, disguised executables, traversal names', async () => {
  await runAll(fileRequests(), 1);
});

test('sign out with a hostile field still signs out cleanly', async () => {
  const session = new Client(app.url);
  await session.login('hostile_player');
  const token = await session.csrf('/index.php?view=settings');
  const reply = await session.request('POST', '/index.php?view=logout', urlEncode([['_csrf', token], ['unknown', '<script>alert(1)</script>']]), { 'content-type': 'application/x-www-form-urlencoded' });
  record({ label: 'POST logout [unknown]', method: 'POST', path: '/index.php?view=logout' }, { status: reply.status, text: reply.text, headers: reply.headers });
  assert.equal(reply.status, 303);
  assert.equal((await session.get('/index.php?view=tickets')).status, 302, 'signed out');
});

test('the server process survives a multipart body cut short (it used to crash: uncaught TypeError)', async () => {
  const dir = tempDir('tb-hostile-process-');
  const env = { PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: path.join(dir, 'app.db'), UPLOADS_DIR: path.join(dir, 'uploads'), LOG_LEVEL: 'info' };
  const opened = openDatabase(env.DATABASE_PATH);
  await addUser(opened.db, 'cut_short', PASSWORD);
  opened.db.close();
  const server = launchServer({ cwd: dir, env });
  try {
    const url = await server.url;
    const client = new Client(url);
    assert.equal((await client.login('cut_short')).status, 303);
    const token = await client.csrf('/index.php?view=ticket_create');
    // Twice: the first one used to take the process down, so the second found nothing listening.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { body, contentType } = multipartBody([['_csrf', token], ['subject', 'cut'], ['message', 'short']], [{ name: 'shot.png', content: PNG_BYTES }]);
      const response = await fetch(`${url}/index.php?view=ticket_create`, {
        method: 'POST',
        headers: { 'content-type': contentType, cookie: cookieHeader(client) },
        body: body.subarray(0, body.length - 60),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(response.status, 400, `attempt ${attempt}`);
      assert.match(await response.text(), /The upload could not be read/);
    }
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still serving');
    assert.deepEqual(uploadedFiles(env.UPLOADS_DIR), [], 'no file left behind');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  assert.doesNotMatch(server.stderr(), /TypeError|uncaught/i);
});

test('afterwards: nothing broken, nothing leaked, nothing half-stored', async () => {
  // Discord received every channel and message the accepted requests queued.
  await fake.waitFor(() => one<{ n: number }>('SELECT count(*) AS n FROM discord_outbox WHERE done_at IS NULL').n === 0, 30_000, 'the Discord outbox to drain');
  assert.ok(bridge.isConnected(), 'the bridge is still connected');
  const badNames = [...fake.channels.values()].filter((c) => c.type === 0 && c.name !== 'ticket-log' && !/^ticket-[\p{Ll}\p{Lm}\p{Lo}\p{M}\p{N}_-]{1,93}$/u.test(c.name ?? ''));
  assert.deepEqual(badNames.map((c) => c.name), [], 'ticket channel names are clean');
  // No prototype pollution from any body parser.
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  // Database: consistent, no ticket without its first message, files and rows match.
  assert.equal(one<{ integrity_check: string }>('PRAGMA integrity_check').integrity_check, 'ok');
  assert.equal(one<{ n: number }>('SELECT count(*) AS n FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id)').n, 0);
  const storage = new Set((db.prepare('SELECT storage_name AS s FROM attachments').all() as { s: string }[]).map((r) => r.s));
  const onDisk = uploadedFiles(app.config.uploadsDir);
  assert.deepEqual(onDisk.filter((f) => !storage.has(f)), [], 'files without a row');
  assert.deepEqual([...storage].filter((s) => !onDisk.includes(s)), [], 'rows without a file');
  // Web text fields never store control characters (the game API keeps the player's text as sent).
  assert.equal(one<{ n: number }>("SELECT count(*) AS n FROM messages WHERE origin = 'web' AND (instr(body, char(0)) > 0 OR instr(body, char(27)) > 0)").n, 0);
  assert.equal(one<{ n: number }>('SELECT count(*) AS n FROM tickets WHERE instr(subject, char(0)) > 0').n, 0);
  // No request was logged as failing.
  const errors = app.logs.filter((line) => typeof line.level === 'number' && line.level >= 50);
  assert.deepEqual(errors.map((line) => line.msg), [], 'error log lines');

  const classes = [...stats.byClass].sort().map(([cls, n]) => `${n} ${cls}`).join(', ');
  console.log(
    `hostile: ${stats.requests} requests (${stats.web} web, ${stats.game} game API; ${stats.files} with hostile files; ${VALUES.length} payloads + ${FIELD_SHAPES.length} field shapes + ${JSON_TOKENS.length} JSON tokens), ${stats.fiveXx} 5xx, ${stats.leaks} leaks, ${stats.refused} refused with nothing stored [${classes}]`,
  );
  assert.deepEqual(failures.slice(0, 40), [], `${failures.length} problems`);
});
