// A fake Discord (REST API v10 + gateway) on 127.0.0.1 that the REAL discord.js Client can log in to.
//
//   const fake = await startFakeDiscord();
//   const client = new Client({ intents: [...], rest: { api: fake.apiUrl } });
//   await client.login(fake.token);
//
// GET /api/v10/gateway/bot hands out ws://127.0.0.1:PORT/gateway, so the gateway stays local too.
// One guild, one bot. State (channels, messages, requests, ...) is public so tests can inspect it,
// and the driver methods (userSays, slashCommand, autocomplete, failNext, disconnectGateway, ...) act like the
// humans and the network would (restOutage and setGatewayAvailable for a Discord that is down). It mimics what Discord really does where a bot would notice:
// error bodies and codes, limits (2000 chars, 50 per category, 500 per guild, embed limits,
// 2 renames per channel per 10 minutes), permission checks (a bot that hides a channel from
// @everyone without granting itself access gets 50001 Missing Access), intents (no MESSAGE_CONTENT
// -> empty content), gateway resume with event replay, interaction 3-second response window.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { PermissionFlagsBits } from 'discord.js';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { pollUntil } from './wait.js';

// ---------------------------------------------------------------------------------------------
// Public types

export interface FakeDiscordOptions {
  botToken?: string;
  guildId?: string;
  guildName?: string;
  botUserId?: string;
  botUsername?: string;
  /** Permissions of the bot's managed role (default: a typical ticket-bot invite, no Administrator). */
  botPermissions?: bigint;
  /** Permissions of @everyone (default: Discord's defaults for a new server). */
  everyonePermissions?: bigint;
  /** Check the bot's permissions on REST calls and users' permissions in userSays (default true). */
  enforcePermissions?: boolean;
  /** Which privileged intents are switched on in the (fake) developer portal; default all. */
  privilegedIntents?: { messageContent?: boolean; guildMembers?: boolean; presences?: boolean };
  /** HELLO heartbeat_interval (default 41250 like Discord). */
  heartbeatIntervalMs?: number;
  /** How long an interaction accepts its initial callback (default 3000 like Discord). */
  interactionResponseTimeoutMs?: number;
  /** Enforce Discord's 2-renames-per-10-minutes limit per channel with a long 429 (default true). */
  channelRenameLimit?: boolean;
  /**
   * How many channels a category takes before a create or move into it is refused with 50035
   * CHANNEL_PARENT_MAX_CHANNELS (default 50, Discord's documented limit). Real Discord has been
   * seen refusing earlier; its error text still says 50, and so does this one. Can be changed while
   * running (the field of the same name).
   */
  categoryLimit?: number;
  port?: number;
}

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot?: boolean;
}

export interface FakeMember {
  user: FakeUser;
  roles: string[];
  nick: string | null;
  joined_at: string;
}

export interface FakeRole {
  id: string;
  name: string;
  permissions: string;
  position: number;
  color: number;
  hoist: boolean;
  managed: boolean;
  mentionable: boolean;
  tags?: Record<string, string | null>;
}

export interface FakeOverwrite {
  id: string;
  /** 0 role, 1 member */
  type: number;
  allow: string;
  deny: string;
}

export interface FakeChannel {
  id: string;
  /** 0 text, 1 DM, 2 voice, 4 category, 5 announcement, 15 forum */
  type: number;
  name: string | null;
  guild_id?: string;
  parent_id: string | null;
  position: number;
  permission_overwrites: FakeOverwrite[];
  topic: string | null;
  nsfw: boolean;
  last_message_id: string | null;
  rate_limit_per_user: number;
  recipients?: FakeUser[];
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type: string;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  embeds: Record<string, unknown>[];
  components: Record<string, unknown>[];
  attachments: FakeAttachment[];
  /** What the sender asked for (bot messages); undefined when none was sent. */
  allowed_mentions?: unknown;
  /** Ids of the users this message actually pings, after allowed_mentions and permissions. */
  mentions: string[];
  mention_roles: string[];
  mention_everyone: boolean;
  timestamp: string;
  edited_timestamp: string | null;
  flags: number;
  type: number;
  tts: boolean;
  message_reference?: { message_id: string; channel_id: string; guild_id?: string };
  /** Emoji the bot reacted with (PUT .../reactions/:emoji/@me), in order. */
  bot_reactions?: string[];
  interaction_id?: string;
  webhook_id?: string;
  /** bot: POST /channels/:id/messages; user: userSays; interaction: callback/followup/edit. */
  source: 'bot' | 'user' | 'interaction';
  deleted: boolean;
  /** The nonce the bot sent with it, if any. */
  nonce?: string;
}

export interface FakeRequest {
  method: string;
  /** Path below /api/v10, e.g. /channels/123/messages. Unmatched paths keep their full form. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  files: { field: string; filename: string; size: number; contentType: string }[];
  status: number;
  authorized: boolean;
  auditLogReason?: string;
  at: number;
}

export interface FakeCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  name: string;
  description: string;
  type: number;
  options: CommandOption[];
  default_member_permissions: string | null;
  version: string;
  [key: string]: unknown;
}

export interface CommandOption {
  type: number;
  name: string;
  description?: string;
  required?: boolean;
  choices?: { name: string; value: string | number }[];
  options?: CommandOption[];
  [key: string]: unknown;
}

export interface FakeInteractionResponse {
  kind: 'callback' | 'followup' | 'edit' | 'delete';
  /** Interaction callback type for kind 'callback' (4 reply, 5 defer, 6 deferred update, 7 update, 8 autocomplete result, 9 modal). */
  type?: number;
  data: Record<string, unknown>;
  messageId?: string;
  at: number;
}

export interface FakeInteraction {
  id: string;
  token: string;
  /** 2 application command, 3 component, 4 autocomplete */
  type: number;
  commandName?: string;
  customId?: string;
  channelId: string;
  userId: string;
  createdAt: number;
  responses: FakeInteractionResponse[];
  originalMessageId?: string;
  payload: Record<string, unknown>;
}

export interface FailOptions {
  status: number;
  /** Seconds (429 only); default 0.1. */
  retryAfter?: number;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** 429 with X-RateLimit-Global (default false). */
  global?: boolean;
  /** Replace the error body. */
  body?: Record<string, unknown>;
  /** Carry the request out, then answer with the failure (Discord did it; the answer was lost). */
  afterHandler?: boolean;
}

export interface UserSaysOptions {
  userId: string;
  username?: string;
  content: string;
  attachments?: { filename: string; data?: string | Buffer; contentType?: string }[];
  /** Extra user ids to list as mentioned (mentions in content like <@id> are found anyway). */
  mentions?: string[];
  embeds?: Record<string, unknown>[];
  replyTo?: string;
  /** Post even if the user lacks ViewChannel/SendMessages there (default false: throw). */
  force?: boolean;
}

export interface GatewayStats {
  connections: number;
  /** Upgrades answered 503 while setGatewayAvailable(false). */
  refused: number;
  identifies: number;
  resumes: number;
  lastIntents: number | null;
  /** Every op received from clients, in order (heartbeats included). */
  received: { op: number; at: number }[];
  presence: unknown;
}

// ---------------------------------------------------------------------------------------------
// Constants and helpers

const P = PermissionFlagsBits;
const ALL_PERMISSIONS = Object.values(P).reduce((a, b) => a | b, 0n);
const DEFAULT_EVERYONE =
  P.ViewChannel | P.CreateInstantInvite | P.ChangeNickname | P.SendMessages | P.SendMessagesInThreads |
  P.CreatePublicThreads | P.CreatePrivateThreads | P.EmbedLinks | P.AttachFiles | P.AddReactions |
  P.UseExternalEmojis | P.UseExternalStickers | P.MentionEveryone | P.ReadMessageHistory |
  P.UseApplicationCommands | P.Connect | P.Speak | P.Stream | P.UseVAD;
const DEFAULT_BOT =
  P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.EmbedLinks | P.AttachFiles | P.AddReactions |
  P.ManageChannels | P.ManageRoles | P.ManageMessages | P.MentionEveryone | P.UseApplicationCommands;

const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
  MessageContent: 1 << 15,
} as const;

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

const DISCORD_EPOCH = 1420070400000n;
let snowflakeIncrement = 0n;
/** A real-looking snowflake (timestamp-based, 18-19 digits). */
export function snowflake(): string {
  snowflakeIncrement = (snowflakeIncrement + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | snowflakeIncrement).toString();
}

function isoNow(): string {
  return new Date().toISOString().replace('Z', '+00:00');
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
  }
}

const unknownError = (what: string, code: number) => new HttpError(404, { message: `Unknown ${what}`, code });
const missingAccess = () => new HttpError(403, { message: 'Missing Access', code: 50001 });
const missingPermissions = () => new HttpError(403, { message: 'Missing Permissions', code: 50013 });

/** Discord's "Invalid Form Body" (code 50035) with the nested errors object for one field path. */
function formError(field: string, code: string, message: string): HttpError {
  const errors: Record<string, unknown> = {};
  let cursor = errors;
  const parts = field.split('.');
  parts.forEach((part, index) => {
    const next: Record<string, unknown> = index === parts.length - 1 ? { _errors: [{ code, message }] } : {};
    cursor[part] = next;
    cursor = next;
  });
  return new HttpError(400, { code: 50035, errors, message: 'Invalid Form Body' });
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}
function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function optString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}
function toBigInt(value: unknown): bigint {
  try {
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? BigInt(value) : 0n;
  } catch {
    return 0n;
  }
}
function tooLong(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length > max;
}

interface Upload {
  field: string;
  filename: string;
  data: Buffer;
  contentType: string;
}

interface RouteContext {
  params: Record<string, string>;
  body: Json;
  rawBody: unknown;
  query: URLSearchParams;
  files: Upload[];
}

interface Reply {
  status: number;
  body?: unknown;
}

interface Route {
  method: string;
  regex: RegExp;
  keys: string[];
  auth: boolean;
  handler: (ctx: RouteContext) => Reply | Promise<Reply>;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const created = (body: unknown): Reply => ({ status: 201, body });
const noContent = (): Reply => ({ status: 204 });

function compilePath(pattern: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        keys.push(segment.slice(1));
        return '([^/]+)';
      }
      if (segment === '*') return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}$`), keys };
}

interface Injection {
  method: string;
  regex: RegExp;
  remaining: number;
  fail?: FailOptions;
  delayMs?: number;
}

/** zlib-stream transport compression: one deflate context per connection, Z_SYNC_FLUSH per payload. */
class ZlibStream {
  private readonly deflate = zlib.createDeflate();
  private chunks: Buffer[] = [];
  constructor() {
    this.deflate.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }
  encode(text: string): Promise<Buffer> {
    return new Promise((resolve) => {
      this.deflate.write(text);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        resolve(out);
      });
    });
  }
  close(): void {
    this.deflate.close();
  }
}

interface GatewaySession {
  id: string;
  token: string;
  intents: number;
  shard: [number, number];
  seq: number;
  conn: GatewayConnection | null;
  /** Recent dispatches, replayed on RESUME. */
  buffer: { s: number; text: string }[];
}

interface GatewayConnection {
  ws: WebSocket;
  session: GatewaySession | null;
  zlib: ZlibStream | null;
  queue: Promise<void>;
}

interface DispatchOptions {
  /** Intent bit the receiving session needs (0: always sent). */
  intent?: number;
  /** Guild the event belongs to (for shard routing). */
  guildId?: string;
  /** Per-session rewrite (e.g. strip message content without the MESSAGE_CONTENT intent). */
  transform?: (session: GatewaySession, data: Json) => Json;
}

// ---------------------------------------------------------------------------------------------
// The fake

export class FakeDiscord {
  url = '';
  apiUrl = '';
  gatewayUrl = '';
  readonly token: string;
  readonly guildId: string;
  readonly guildName: string;
  readonly botUserId: string;
  readonly applicationId: string;
  readonly everyoneRoleId: string;
  readonly botRoleId: string;
  readonly ownerId: string;

  readonly users = new Map<string, FakeUser>();
  readonly members = new Map<string, FakeMember>();
  readonly roles = new Map<string, FakeRole>();
  readonly channels = new Map<string, FakeChannel>();
  readonly deletedChannels: FakeChannel[] = [];
  readonly messages: FakeMessage[] = [];
  readonly requests: FakeRequest[] = [];
  readonly commands: FakeCommand[] = [];
  readonly interactions: FakeInteraction[] = [];
  /** Every 429 the fake sent (injected or by a real limit), for assertions. */
  readonly rateLimited: { method: string; path: string; retryAfter: number; at: number }[] = [];
  readonly attachmentData = new Map<string, { data: Buffer; contentType: string }>();
  readonly gateway: GatewayStats = {
    connections: 0,
    refused: 0,
    identifies: 0,
    resumes: 0,
    lastIntents: null,
    received: [],
    presence: null,
  };

  enforcePermissions: boolean;
  privilegedIntents: { messageContent: boolean; guildMembers: boolean; presences: boolean };
  heartbeatIntervalMs: number;
  interactionResponseTimeoutMs: number;
  channelRenameLimit: boolean;
  /** See FakeDiscordOptions.categoryLimit. */
  categoryLimit: number;

  private gatewayAvailable = true;
  private outage: Omit<FailOptions, 'count'> | null = null;
  private restHold: { released: Promise<void>; release: () => void } | null = null;
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly connections = new Set<GatewayConnection>();
  private readonly injections: Injection[] = [];
  private readonly renames = new Map<string, number[]>();
  private readonly routes: Route[] = [];
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly port: number;

  constructor(options: FakeDiscordOptions = {}) {
    this.guildId = options.guildId ?? snowflake();
    this.guildName = options.guildName ?? 'Fake Guild';
    this.botUserId = options.botUserId ?? snowflake();
    this.applicationId = this.botUserId;
    this.token =
      options.botToken ??
      `${Buffer.from(this.botUserId).toString('base64url')}.Gfake0.${Buffer.from(snowflake()).toString('base64url')}`;
    this.everyoneRoleId = this.guildId; // like Discord: @everyone's id is the guild's id
    this.botRoleId = snowflake();
    this.ownerId = snowflake();
    this.enforcePermissions = options.enforcePermissions ?? true;
    this.privilegedIntents = {
      messageContent: options.privilegedIntents?.messageContent ?? true,
      guildMembers: options.privilegedIntents?.guildMembers ?? true,
      presences: options.privilegedIntents?.presences ?? true,
    };
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41250;
    this.interactionResponseTimeoutMs = options.interactionResponseTimeoutMs ?? 3000;
    this.channelRenameLimit = options.channelRenameLimit ?? true;
    this.categoryLimit = options.categoryLimit ?? 50;
    this.port = options.port ?? 0;

    const botName = options.botUsername ?? 'TicketBridge';
    this.roles.set(this.everyoneRoleId, this.makeRole(this.everyoneRoleId, '@everyone', options.everyonePermissions ?? DEFAULT_EVERYONE, 0));
    const botRole = this.makeRole(this.botRoleId, botName, options.botPermissions ?? DEFAULT_BOT, 1);
    botRole.managed = true;
    botRole.tags = { bot_id: this.botUserId };
    this.roles.set(this.botRoleId, botRole);
    this.putMember({ id: this.botUserId, username: botName, global_name: null, discriminator: '0', avatar: null, bot: true }, [this.botRoleId]);
    this.putMember({ id: this.ownerId, username: 'guild-owner', global_name: 'Guild Owner', discriminator: '0', avatar: null }, []);

    this.defineRoutes();
    this.server = http.createServer((req, res) => void this.handleHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/gateway' && url.pathname !== '/gateway/') {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      if (!this.gatewayAvailable) {
        this.gateway.refused++;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onGatewayConnection(ws, url));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.url}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
  }

  async stop(): Promise<void> {
    for (const conn of this.connections) {
      conn.zlib?.close();
      conn.ws.terminate();
    }
    this.connections.clear();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // Driving the fake (what humans and the network do)

  get botUser(): FakeUser {
    return this.members.get(this.botUserId)!.user;
  }

  /** A role, created like an admin would (GUILD_ROLE_CREATE is dispatched). */
  addRole(name: string, options: { permissions?: bigint; mentionable?: boolean; color?: number } = {}): string {
    const id = snowflake();
    const role = this.makeRole(id, name, options.permissions ?? 0n, this.roles.size);
    role.mentionable = options.mentionable ?? false;
    role.color = options.color ?? 0;
    this.roles.set(id, role);
    this.dispatch('GUILD_ROLE_CREATE', { guild_id: this.guildId, role: { ...role } }, { intent: Intent.Guilds, guildId: this.guildId });
    return id;
  }

  /** An admin edits a role's permissions in Server Settings → Roles (GUILD_ROLE_UPDATE dispatched). */
  setRolePermissions(roleId: string, permissions: bigint): void {
    const role = this.roles.get(roleId);
    if (!role) throw new Error(`fake discord: no role ${roleId}`);
    role.permissions = permissions.toString();
    this.dispatch('GUILD_ROLE_UPDATE', { guild_id: this.guildId, role: this.apiRole(role) }, { intent: Intent.Guilds, guildId: this.guildId });
  }

  /** An admin deletes a role (GUILD_ROLE_DELETE dispatched; members lose it). */
  deleteRole(roleId: string): void {
    if (!this.roles.delete(roleId)) return;
    for (const member of this.members.values()) member.roles = member.roles.filter((id) => id !== roleId);
    this.dispatch('GUILD_ROLE_DELETE', { guild_id: this.guildId, role_id: roleId }, { intent: Intent.Guilds, guildId: this.guildId });
  }

  /** An admin edits a channel's permission overwrites in the Discord UI (CHANNEL_UPDATE dispatched). */
  setChannelOverwrites(channelId: string, overwrites: FakeOverwrite[]): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`fake discord: no channel ${channelId}`);
    channel.permission_overwrites = overwrites.map((o) => ({ ...o }));
    this.dispatch('CHANNEL_UPDATE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
  }

  /** Text channels added to a category until it holds `count` (Discord's limit is 50), as an admin would. */
  fillCategory(categoryId: string, count = 50): FakeChannel[] {
    const added: FakeChannel[] = [];
    const held = () => [...this.channels.values()].filter((c) => c.parent_id === categoryId).length;
    for (let i = held(); i < count; i++) added.push(this.addChannel({ name: `old-ticket-${i + 1}`, parent_id: categoryId }));
    return added;
  }

  /** A staff role: no extra permissions beyond @everyone, mentionable. Returns its id. */
  addStaffRole(name: string, permissions = 0n): string {
    return this.addRole(name, { permissions, mentionable: true });
  }

  /** A human member (GUILD_MEMBER_ADD is dispatched; discord.js only gets it with the GuildMembers intent). */
  addMember(userId: string, username: string, roleIds: string[] = []): FakeMember {
    const existing = this.members.get(userId);
    if (existing) return existing;
    const member = this.putMember({ id: userId, username, global_name: null, discriminator: '0', avatar: null }, roleIds);
    this.dispatch('GUILD_MEMBER_ADD', { guild_id: this.guildId, ...this.apiMember(member) }, { intent: Intent.GuildMembers, guildId: this.guildId });
    return member;
  }

  setMemberRoles(userId: string, roleIds: string[]): void {
    const member = this.members.get(userId);
    if (!member) throw new Error(`fake discord: no member ${userId}`);
    member.roles = [...roleIds];
    this.dispatch('GUILD_MEMBER_UPDATE', { guild_id: this.guildId, ...this.apiMember(member) }, { intent: Intent.GuildMembers, guildId: this.guildId });
  }

  removeMember(userId: string): void {
    const member = this.members.get(userId);
    if (!member) return;
    this.members.delete(userId);
    this.dispatch('GUILD_MEMBER_REMOVE', { guild_id: this.guildId, user: { ...member.user } }, { intent: Intent.GuildMembers, guildId: this.guildId });
  }

  /** A channel created by an admin in the Discord UI (no permission checks; CHANNEL_CREATE dispatched). */
  addChannel(input: { name: string; type?: number; parent_id?: string | null; permission_overwrites?: FakeOverwrite[]; topic?: string }): FakeChannel {
    const channel = this.createGuildChannel({ ...input }, false);
    return channel;
  }

  /** A member starts a public thread under a text channel (THREAD_CREATE dispatched); members then write in it with userSays. */
  addThread(parentId: string, name: string): FakeChannel {
    const parent = this.channels.get(parentId);
    if (!parent || parent.type !== 0) throw new Error(`fake discord: no text channel ${parentId} to start a thread in`);
    const channel: FakeChannel = {
      id: snowflake(),
      type: 11,
      name,
      guild_id: this.guildId,
      parent_id: parentId,
      position: 0,
      permission_overwrites: [],
      topic: null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
    };
    this.channels.set(channel.id, channel);
    const metadata = { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false };
    this.dispatch('THREAD_CREATE', { ...this.apiChannel(channel), newly_created: true, thread_metadata: metadata, member_count: 1, message_count: 0 }, { intent: Intent.Guilds, guildId: this.guildId });
    return channel;
  }

  /** An admin deletes a channel in the Discord UI (CHANNEL_DELETE dispatched). */
  adminDeleteChannel(channelId: string): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`fake discord: no channel ${channelId}`);
    this.removeChannel(channel);
  }

  /** A member writes in a channel: stored, and MESSAGE_CREATE dispatched if the bot can see it. */
  userSays(channelId: string, options: UserSaysOptions): FakeMessage {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`fake discord: no channel ${channelId}`);
    const member =
      this.members.get(options.userId) ?? this.addMember(options.userId, options.username ?? `user${options.userId.slice(-4)}`);
    if (this.enforcePermissions && !options.force && channel.guild_id) {
      const perms = this.permissionsIn(channel, member.user.id);
      if (!(perms & P.ViewChannel) || !(perms & P.SendMessages)) {
        throw new Error(
          `fake discord: ${member.user.username} (${member.user.id}) cannot send messages in #${channel.name} (${channel.id}); pass force: true to post anyway`,
        );
      }
    }
    const id = snowflake();
    const attachments: FakeAttachment[] = (options.attachments ?? []).map((a) => {
      const data = typeof a.data === 'string' ? Buffer.from(a.data) : (a.data ?? Buffer.from('fake attachment'));
      return this.storeAttachment(channel.id, a.filename, data, a.contentType ?? 'application/octet-stream');
    });
    const replyTo = options.replyTo ? this.messages.find((m) => m.id === options.replyTo) : undefined;
    const pinged = this.computeMentions(options.content, member.user.id, channel, undefined, replyTo);
    for (const extra of options.mentions ?? []) if (!pinged.mentions.includes(extra)) pinged.mentions.push(extra);
    const message: FakeMessage = {
      id,
      channel_id: channel.id,
      ...(channel.guild_id ? { guild_id: channel.guild_id } : {}),
      author: { ...member.user },
      content: options.content,
      embeds: options.embeds ?? [],
      components: [],
      attachments,
      ...pinged,
      timestamp: isoNow(),
      edited_timestamp: null,
      flags: 0,
      type: replyTo ? 19 : 0,
      tts: false,
      ...(replyTo ? { message_reference: { message_id: replyTo.id, channel_id: replyTo.channel_id, guild_id: this.guildId } } : {}),
      source: 'user',
      deleted: false,
    };
    this.messages.push(message);
    channel.last_message_id = id;
    this.dispatchMessage('MESSAGE_CREATE', message);
    return message;
  }

  /**
   * A member runs a registered slash command. `command` is the name, plus subcommand group/subcommand
   * separated by spaces ("settings close_on_logout"); options are typed from the registered definition.
   * Throws if the command is not registered (guild or global) or the options do not fit it.
   */
  slashCommand(input: {
    channelId: string;
    userId: string;
    username?: string;
    command: string;
    options?: Record<string, string | number | boolean>;
  }): FakeInteraction {
    const channel = this.channels.get(input.channelId);
    if (!channel) throw new Error(`fake discord: no channel ${input.channelId}`);
    const member = this.members.get(input.userId) ?? this.addMember(input.userId, input.username ?? `user${input.userId.slice(-4)}`);
    const [name, ...path] = input.command.trim().split(/\s+/);
    const command =
      this.commands.find((c) => c.name === name && c.guild_id === this.guildId) ??
      this.commands.find((c) => c.name === name && c.guild_id === undefined);
    if (!command || !name) {
      throw new Error(`fake discord: slash command /${name ?? ''} is not registered (registered: ${this.commands.map((c) => c.name).join(', ') || 'none'})`);
    }
    if (command.default_member_permissions !== null && this.enforcePermissions) {
      const needed = toBigInt(command.default_member_permissions);
      const has = this.basePermissions(member.user.id);
      if ((has & needed) !== needed) throw new Error(`fake discord: ${member.user.username} cannot see /${name} (default_member_permissions ${needed})`);
    }
    const resolved: { users: Json; members: Json; roles: Json; channels: Json } = { users: {}, members: {}, roles: {}, channels: {} };
    const options = this.buildOptions(command.options, path, input.options ?? {}, resolved, `/${input.command}`);
    const hasResolved = Object.values(resolved).some((v) => Object.keys(v).length > 0);
    const data: Json = {
      id: command.id,
      name: command.name,
      type: command.type,
      ...(command.guild_id ? { guild_id: command.guild_id } : {}),
      ...(options.length > 0 ? { options } : {}),
      ...(hasResolved ? { resolved } : {}),
    };
    return this.createInteraction(2, channel, member, data, { commandName: command.name });
  }

  /**
   * A member types in an option marked `autocomplete` of a registered slash command: an
   * APPLICATION_COMMAND_AUTOCOMPLETE interaction (type 4) with the options typed so far, `focused`
   * naming the one being typed (its value is the partial text, always a string). The bot answers with
   * callback type 8 and `data.choices` (at most 25); read them from the interaction's responses.
   */
  autocomplete(input: { channelId: string; userId: string; username?: string; command: string; focused: string; options?: Record<string, string> }): FakeInteraction {
    const channel = this.channels.get(input.channelId);
    if (!channel) throw new Error(`fake discord: no channel ${input.channelId}`);
    const member = this.members.get(input.userId) ?? this.addMember(input.userId, input.username ?? `user${input.userId.slice(-4)}`);
    const [name, ...path] = input.command.trim().split(/\s+/);
    const command = this.commands.find((c) => c.name === name && c.guild_id === this.guildId) ?? this.commands.find((c) => c.name === name && c.guild_id === undefined);
    if (!command || !name) throw new Error(`fake discord: slash command /${name ?? ''} is not registered`);
    let defs = command.options;
    const steps: { type: number; name: string }[] = [];
    for (const step of path) {
      const sub = defs.find((d) => d.name === step && (d.type === 1 || d.type === 2));
      if (!sub) throw new Error(`fake discord: /${input.command}: no subcommand (group) "${step}"`);
      steps.push({ type: sub.type, name: sub.name });
      defs = sub.options ?? [];
    }
    const def = defs.find((d) => d.name === input.focused);
    if (!def || def.autocomplete !== true) throw new Error(`fake discord: /${input.command}: option "${input.focused}" is not marked autocomplete`);
    const typed = { ...input.options, [input.focused]: input.options?.[input.focused] ?? '' };
    const leaf: Json[] = defs.filter((d) => typed[d.name] !== undefined).map((d) => ({ type: d.type, name: d.name, value: typed[d.name], ...(d.name === input.focused ? { focused: true } : {}) }));
    const options = steps.reduceRight<Json[]>((inner, step) => [{ ...step, options: inner }], leaf);
    const data: Json = { id: command.id, name: command.name, type: command.type, ...(command.guild_id ? { guild_id: command.guild_id } : {}), options };
    return this.createInteraction(4, channel, member, data, { commandName: command.name });
  }

  /** A member clicks a button (custom_id) on a message the bot sent. */
  clickButton(input: { messageId: string; customId: string; userId: string; username?: string }): FakeInteraction {
    const message = this.messages.find((m) => m.id === input.messageId && !m.deleted);
    if (!message) throw new Error(`fake discord: no message ${input.messageId}`);
    const channel = this.channels.get(message.channel_id);
    if (!channel) throw new Error(`fake discord: channel of message ${input.messageId} is gone`);
    const component = findComponent(message.components, input.customId);
    if (!component) throw new Error(`fake discord: message ${input.messageId} has no component with custom_id ${input.customId}`);
    const member = this.members.get(input.userId) ?? this.addMember(input.userId, input.username ?? `user${input.userId.slice(-4)}`);
    const data: Json = { custom_id: input.customId, component_type: typeof component.type === 'number' ? component.type : 2 };
    return this.createInteraction(3, channel, member, data, { customId: input.customId, message: this.apiMessage(message) });
  }

  /** Make the next `count` REST calls matching method and path fail (429 with real headers, or 5xx). */
  failNext(method: string, pathPattern: string | RegExp, options: FailOptions): void {
    this.injections.push({
      method: method.toUpperCase(),
      regex: typeof pathPattern === 'string' ? compilePath(pathPattern).regex : pathPattern,
      remaining: options.count ?? 1,
      fail: options,
    });
  }

  /**
   * A Discord API outage: until restOutage(null), every REST call answers `fail` (a 5xx, or a 429
   * with real rate-limit headers and `retryAfter` seconds), whatever its route. Calls already
   * answered are not affected; failNext/delayNext injections wait behind the outage.
   */
  restOutage(fail: Omit<FailOptions, 'count'> | null): void {
    this.outage = fail;
  }

  /**
   * Hold every REST call until releaseRest(): each is read, then waits unanswered (as behind a very
   * slow Discord) and is carried out on release, in arrival order. Keep a hold shorter than the
   * client's request timeout (discord.js: 15 s), or the client gives up and retries.
   */
  holdRest(): void {
    if (this.restHold) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.restHold = { released, release };
  }

  releaseRest(): void {
    const hold = this.restHold;
    this.restHold = null;
    hold?.release();
  }

  /** Delay the next `count` matching REST responses by `ms` (then answer normally). */
  delayNext(method: string, pathPattern: string | RegExp, ms: number, count = 1): void {
    this.injections.push({
      method: method.toUpperCase(),
      regex: typeof pathPattern === 'string' ? compilePath(pathPattern).regex : pathPattern,
      remaining: count,
      delayMs: ms,
    });
  }

  /**
   * Drop the gateway connection(s). Default: abrupt (TCP gone, client sees 1006) and the session stays
   * resumable, so discord.js RESUMEs and gets the missed events replayed (shardResume).
   * code 1000 makes discord.js re-IDENTIFY (shardReady again); invalidateSession forces that too.
   */
  disconnectGateway(options: { code?: number; reason?: string; invalidateSession?: boolean } = {}): number {
    let closed = 0;
    for (const conn of [...this.connections]) {
      if (options.invalidateSession && conn.session) this.sessions.delete(conn.session.id);
      if (options.code === undefined) conn.ws.terminate();
      else conn.ws.close(options.code, options.reason ?? '');
      closed++;
    }
    return closed;
  }

  /** Send opcode 7 RECONNECT, like Discord does before moving a session. */
  requestReconnect(): void {
    for (const conn of this.connections) this.send(conn, { op: Op.Reconnect, d: null });
  }

  /** While false, gateway upgrades are answered 503 (discord.js keeps retrying every ~0.5 s). */
  setGatewayAvailable(available: boolean): void {
    this.gatewayAvailable = available;
  }

  get gatewayConnected(): boolean {
    return [...this.connections].some((c) => c.session !== null && c.ws.readyState === WebSocket.OPEN);
  }

  /** Send any dispatch to connected sessions (escape hatch). */
  dispatchRaw(t: string, d: Json): void {
    this.dispatch(t, d, { guildId: this.guildId });
  }

  /** Poll until fn returns a truthy value (returned), or reject after timeoutMs. */
  waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return pollUntil(fn, timeoutMs, `fake discord: ${what}`);
  }

  /** Live messages in a channel, oldest first. */
  messagesIn(channelId: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel_id === channelId && !m.deleted);
  }

  channelByName(name: string): FakeChannel | undefined {
    return [...this.channels.values()].find((c) => c.name === name);
  }

  /** Permissions of a user in a channel, computed like Discord (roles, overwrites, Administrator). */
  permissionsIn(channel: FakeChannel, userId: string): bigint {
    if (!channel.guild_id) {
      return P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.EmbedLinks | P.AttachFiles | P.AddReactions;
    }
    const member = this.members.get(userId);
    if (!member) return 0n;
    let perms = this.basePermissions(userId);
    if (perms & P.Administrator) return ALL_PERMISSIONS;
    const overwrites = channel.permission_overwrites;
    const everyone = overwrites.find((o) => o.id === this.everyoneRoleId);
    if (everyone) perms = (perms & ~toBigInt(everyone.deny)) | toBigInt(everyone.allow);
    let allow = 0n;
    let deny = 0n;
    for (const o of overwrites) {
      if (o.type === 0 && member.roles.includes(o.id)) {
        allow |= toBigInt(o.allow);
        deny |= toBigInt(o.deny);
      }
    }
    perms = (perms & ~deny) | allow;
    const own = overwrites.find((o) => o.type === 1 && o.id === userId);
    if (own) perms = (perms & ~toBigInt(own.deny)) | toBigInt(own.allow);
    if (!(perms & P.ViewChannel)) return 0n;
    if (!(perms & P.SendMessages)) perms &= ~(P.MentionEveryone | P.SendTTSMessages | P.AttachFiles | P.EmbedLinks);
    return perms;
  }

  basePermissions(userId: string): bigint {
    if (userId === this.ownerId) return ALL_PERMISSIONS;
    const member = this.members.get(userId);
    if (!member) return 0n;
    let perms = toBigInt(this.roles.get(this.everyoneRoleId)?.permissions);
    for (const roleId of member.roles) perms |= toBigInt(this.roles.get(roleId)?.permissions);
    return perms & P.Administrator ? ALL_PERMISSIONS : perms;
  }

  // -------------------------------------------------------------------------------------------
  // Internal state helpers

  private makeRole(id: string, name: string, permissions: bigint, position: number): FakeRole {
    return { id, name, permissions: permissions.toString(), position, color: 0, hoist: false, managed: false, mentionable: false };
  }

  private putMember(user: FakeUser, roles: string[]): FakeMember {
    this.users.set(user.id, user);
    const member: FakeMember = { user, roles: [...roles], nick: null, joined_at: isoNow() };
    this.members.set(user.id, member);
    return member;
  }

  private apiRole(role: FakeRole): Json {
    return {
      ...role,
      colors: { primary_color: role.color, secondary_color: null, tertiary_color: null },
      icon: null,
      unicode_emoji: null,
      flags: 0,
    };
  }

  private apiMember(member: FakeMember, withUser = true): Json {
    return {
      ...(withUser ? { user: { ...member.user } } : {}),
      roles: [...member.roles],
      nick: member.nick,
      avatar: null,
      banner: null,
      joined_at: member.joined_at,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    };
  }

  private apiChannel(channel: FakeChannel): Json {
    const base: Json = {
      id: channel.id,
      type: channel.type,
      flags: 0,
    };
    if (channel.type === 1) {
      return { ...base, last_message_id: channel.last_message_id, recipients: channel.recipients ?? [] };
    }
    const out: Json = {
      ...base,
      guild_id: channel.guild_id,
      name: channel.name,
      parent_id: channel.parent_id,
      position: channel.position,
      permission_overwrites: channel.permission_overwrites.map((o) => ({ ...o })),
      nsfw: channel.nsfw,
    };
    if (channel.type !== 4) {
      out.topic = channel.topic;
      out.last_message_id = channel.last_message_id;
      out.rate_limit_per_user = channel.rate_limit_per_user;
    }
    return out;
  }

  private apiGuild(): Json {
    return {
      id: this.guildId,
      name: this.guildName,
      icon: null,
      icon_hash: null,
      splash: null,
      discovery_splash: null,
      owner_id: this.ownerId,
      region: 'deprecated',
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      verification_level: 1,
      default_message_notifications: 1,
      explicit_content_filter: 2,
      roles: [...this.roles.values()].map((r) => this.apiRole(r)),
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      safety_alerts_channel_id: null,
      max_presences: null,
      max_members: 500000,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: 'en-US',
      public_updates_channel_id: null,
      nsfw_level: 0,
      nsfw: false,
      premium_progress_bar_enabled: false,
      hub_type: null,
      incidents_data: null,
    };
  }

  private apiUserFor(id: string): Json {
    const user = this.users.get(id);
    return user ? { ...user, public_flags: 0, avatar_decoration_data: null } : { id, username: 'unknown', discriminator: '0', global_name: null, avatar: null };
  }

  /** A message as Discord serialises it (REST shape; `forGateway` adds guild_id/member like MESSAGE_CREATE). */
  private apiMessage(message: FakeMessage, forGateway = false): Json {
    const out: Json = {
      id: message.id,
      type: message.type,
      content: message.content,
      channel_id: message.channel_id,
      author: { ...this.apiUserFor(message.author.id), ...message.author },
      attachments: message.attachments.map((a) => ({ ...a })),
      embeds: message.embeds,
      mentions: message.mentions.map((id) => {
        const user = this.apiUserFor(id);
        const member = this.members.get(id);
        return forGateway && member && message.guild_id ? { ...user, member: this.apiMember(member, false) } : user;
      }),
      mention_roles: [...message.mention_roles],
      mention_everyone: message.mention_everyone,
      pinned: false,
      tts: message.tts,
      timestamp: message.timestamp,
      edited_timestamp: message.edited_timestamp,
      flags: message.flags,
      components: message.components,
    };
    if (message.webhook_id) out.webhook_id = message.webhook_id;
    if (message.source === 'interaction') out.application_id = this.applicationId;
    if (message.message_reference) {
      out.message_reference = { type: 0, ...message.message_reference };
      const referenced = this.messages.find((m) => m.id === message.message_reference?.message_id && !m.deleted);
      out.referenced_message = referenced ? this.apiMessage(referenced) : null;
    }
    if (message.interaction_id) {
      const interaction = this.interactions.find((i) => i.id === message.interaction_id);
      if (interaction) {
        out.interaction_metadata = {
          id: interaction.id,
          type: interaction.type,
          user: this.apiUserFor(interaction.userId),
          authorizing_integration_owners: { '0': this.guildId },
          ...(interaction.commandName ? { name: interaction.commandName, command_type: 1 } : {}),
        };
      }
    }
    if (forGateway && message.guild_id) {
      out.guild_id = message.guild_id;
      const member = this.members.get(message.author.id);
      if (member && !message.webhook_id) out.member = this.apiMember(member, false);
    }
    return out;
  }

  private storeAttachment(channelId: string, filename: string, data: Buffer, contentType: string): FakeAttachment {
    const id = snowflake();
    const url = `${this.url}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    this.attachmentData.set(id, { data, contentType });
    return { id, filename, size: data.length, url, proxy_url: url, content_type: contentType };
  }

  private textBased(channel: FakeChannel): boolean {
    return channel.type === 0 || channel.type === 1 || channel.type === 5 || channel.type === 2 || channel.type === 10 || channel.type === 11 || channel.type === 12;
  }

  private requireBot(channel: FakeChannel, permission: bigint): void {
    if (!this.enforcePermissions || !channel.guild_id) return;
    const perms = this.permissionsIn(channel, this.botUserId);
    if (!(perms & P.ViewChannel)) throw missingAccess();
    if ((perms & permission) !== permission) throw missingPermissions();
  }

  private channelOr404(id: string | undefined): FakeChannel {
    const channel = id ? this.channels.get(id) : undefined;
    if (!channel) throw unknownError('Channel', 10003);
    return channel;
  }

  private guildOr404(id: string | undefined): void {
    if (id !== this.guildId) throw unknownError('Guild', 10004);
  }

  /** Discord's mention resolution: content + allowed_mentions + permissions -> who gets pinged. */
  private computeMentions(
    content: string,
    authorId: string,
    channel: FakeChannel,
    allowedMentions: unknown,
    replyTo: FakeMessage | undefined,
  ): { mentions: string[]; mention_roles: string[]; mention_everyone: boolean } {
    const userIds = [...new Set([...content.matchAll(/<@!?(\d{15,21})>/g)].map((m) => m[1] ?? ''))].filter((id) => this.users.has(id));
    const roleIds = [...new Set([...content.matchAll(/<@&(\d{15,21})>/g)].map((m) => m[1] ?? ''))].filter((id) => this.roles.has(id));
    const everyoneWritten = /@(everyone|here)\b/.test(content);
    let allowUser: (id: string) => boolean = () => true;
    let allowRole: (id: string) => boolean = () => true;
    let allowEveryone = true;
    let repliedUser = true;
    if (allowedMentions !== undefined && allowedMentions !== null) {
      const am = asObject(allowedMentions);
      const parse = asArray(am.parse).map(String);
      const users = asArray(am.users).map(String);
      const roles = asArray(am.roles).map(String);
      allowUser = (id) => parse.includes('users') || users.includes(id);
      allowRole = (id) => parse.includes('roles') || roles.includes(id);
      allowEveryone = parse.includes('everyone');
      repliedUser = am.replied_user === true;
    }
    const authorPerms = channel.guild_id ? this.permissionsIn(channel, authorId) : 0n;
    const canMentionAll = (authorPerms & P.MentionEveryone) !== 0n;
    const mentions = userIds.filter(allowUser);
    if (replyTo && repliedUser && !mentions.includes(replyTo.author.id)) mentions.push(replyTo.author.id);
    const mention_roles = roleIds.filter((id) => allowRole(id) && (canMentionAll || this.roles.get(id)?.mentionable === true));
    return { mentions, mention_roles, mention_everyone: everyoneWritten && allowEveryone && canMentionAll };
  }

  /** Validates a message body like Discord (content, embeds, allowed_mentions). */
  private validateMessageBody(body: Json, files: Upload[], requireSomething: boolean): void {
    if (tooLong(body.content, 2000)) throw formError('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
    const embeds = asArray(body.embeds);
    if (embeds.length > 10) throw formError('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    let total = 0;
    embeds.forEach((raw, i) => {
      const e = asObject(raw);
      const check = (value: unknown, max: number, field: string) => {
        if (typeof value === 'string') {
          total += value.length;
          if (value.length > max) throw formError(`embeds.${i}.${field}`, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
        }
      };
      check(e.title, 256, 'title');
      check(e.description, 4096, 'description');
      check(asObject(e.footer).text, 2048, 'footer.text');
      check(asObject(e.author).name, 256, 'author.name');
      const fields = asArray(e.fields);
      if (fields.length > 25) throw formError(`embeds.${i}.fields`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      fields.forEach((rawField, j) => {
        const f = asObject(rawField);
        if (typeof f.name !== 'string' || f.name.length === 0) throw formError(`embeds.${i}.fields.${j}.name`, 'BASE_TYPE_REQUIRED', 'This field is required');
        if (typeof f.value !== 'string' || f.value.length === 0) throw formError(`embeds.${i}.fields.${j}.value`, 'BASE_TYPE_REQUIRED', 'This field is required');
        check(f.name, 256, `fields.${j}.name`);
        check(f.value, 1024, `fields.${j}.value`);
      });
    });
    if (total > 6000) throw formError('embeds', 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
    const am = body.allowed_mentions;
    if (am !== undefined && am !== null) {
      const parse = asArray(asObject(am).parse).map(String);
      if (parse.includes('users') && asArray(asObject(am).users).length > 0) {
        throw formError('allowed_mentions', 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', 'parse:["users"] and users: [ids] are mutually exclusive.');
      }
      if (parse.includes('roles') && asArray(asObject(am).roles).length > 0) {
        throw formError('allowed_mentions', 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', 'parse:["roles"] and roles: [ids] are mutually exclusive.');
      }
    }
    for (const file of files) {
      if (file.data.length > 10 * 1024 * 1024) throw new HttpError(413, { message: 'Request entity too large', code: 40005 });
    }
    const empty =
      (typeof body.content !== 'string' || body.content.length === 0) &&
      embeds.length === 0 &&
      files.length === 0 &&
      asArray(body.components).length === 0 &&
      asArray(body.sticker_ids).length === 0 &&
      body.poll === undefined;
    if (requireSomething && empty) throw new HttpError(400, { message: 'Cannot send an empty message', code: 50006 });
  }

  private createBotMessage(
    channel: FakeChannel,
    body: Json,
    files: Upload[],
    extra: Partial<FakeMessage> & Pick<FakeMessage, 'source'>,
  ): FakeMessage {
    const content = typeof body.content === 'string' ? body.content : '';
    const ref = asObject(body.message_reference);
    let replyTo: FakeMessage | undefined;
    const refId = optString(ref.message_id);
    if (refId) {
      replyTo = this.messages.find((m) => m.id === refId && !m.deleted);
      if (!replyTo && ref.fail_if_not_exists !== false) {
        throw formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
      }
    }
    const attachments = files.map((f) => this.storeAttachment(channel.id, f.filename, f.data, f.contentType));
    const pinged = this.computeMentions(content, this.botUserId, channel, body.allowed_mentions, replyTo);
    const message: FakeMessage = {
      id: snowflake(),
      channel_id: channel.id,
      ...(channel.guild_id ? { guild_id: channel.guild_id } : {}),
      author: { ...this.botUser },
      content,
      embeds: asArray(body.embeds).map(asObject),
      components: asArray(body.components).map(asObject),
      attachments,
      ...(body.allowed_mentions !== undefined ? { allowed_mentions: body.allowed_mentions } : {}),
      ...pinged,
      timestamp: isoNow(),
      edited_timestamp: null,
      flags: Number(body.flags ?? 0) & (4 | 64 | 4096),
      type: replyTo ? 19 : 0,
      tts: body.tts === true,
      ...(replyTo ? { message_reference: { message_id: replyTo.id, channel_id: replyTo.channel_id, ...(replyTo.guild_id ? { guild_id: replyTo.guild_id } : {}) } } : {}),
      deleted: false,
      ...extra,
    };
    this.messages.push(message);
    channel.last_message_id = message.id;
    return message;
  }

  private editMessage(message: FakeMessage, body: Json, files: Upload[]): void {
    const channel = this.channels.get(message.channel_id);
    this.validateMessageBody(body, files, false);
    if (typeof body.content === 'string' || body.content === null) message.content = typeof body.content === 'string' ? body.content : '';
    if (body.embeds !== undefined) message.embeds = asArray(body.embeds).map(asObject);
    if (body.components !== undefined) message.components = asArray(body.components).map(asObject);
    if (body.allowed_mentions !== undefined) message.allowed_mentions = body.allowed_mentions;
    if (channel) Object.assign(message, this.computeMentions(message.content, message.author.id, channel, message.allowed_mentions, undefined));
    if (files.length > 0) message.attachments.push(...files.map((f) => this.storeAttachment(message.channel_id, f.filename, f.data, f.contentType)));
    message.flags &= ~128; // no longer "thinking"
    message.edited_timestamp = isoNow();
  }

  /** MESSAGE_CREATE/UPDATE to sessions whose bot can see the channel, stripping content without the intent. */
  private dispatchMessage(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', message: FakeMessage): void {
    if (message.flags & 64) return; // ephemeral: never dispatched
    const channel = this.channels.get(message.channel_id);
    if (!channel) return;
    if (this.enforcePermissions && channel.guild_id && !(this.permissionsIn(channel, this.botUserId) & P.ViewChannel)) return;
    const data = this.apiMessage(message, true);
    this.dispatch(t, data, {
      intent: message.guild_id ? Intent.GuildMessages : Intent.DirectMessages,
      ...(message.guild_id ? { guildId: message.guild_id } : {}),
      transform: (session, d) => {
        if (session.intents & Intent.MessageContent) return d;
        if (message.author.id === this.botUserId || message.mentions.includes(this.botUserId) || !message.guild_id) return d;
        return { ...d, content: '', embeds: [], attachments: [], components: [] };
      },
    });
  }

  private removeChannel(channel: FakeChannel): void {
    this.channels.delete(channel.id);
    this.deletedChannels.push(channel);
    this.dispatch('CHANNEL_DELETE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
    if (channel.type === 4) {
      for (const child of this.channels.values()) {
        if (child.parent_id === channel.id) {
          child.parent_id = null;
          this.dispatch('CHANNEL_UPDATE', this.apiChannel(child), { intent: Intent.Guilds, guildId: this.guildId });
        }
      }
    }
  }

  private parseOverwrites(raw: unknown, field: string): FakeOverwrite[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw formError(field, 'BASE_TYPE_BAD_TYPE', 'Must be an array.');
    if (raw.length > 100) throw formError(field, 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    return raw.map((entry, i) => {
      const o = asObject(entry);
      const id = optString(o.id);
      if (!id || !/^\d{15,21}$/.test(id)) throw formError(`${field}.${i}.id`, 'NUMBER_TYPE_COERCE', `Value "${String(o.id)}" is not snowflake.`);
      const type = Number(o.type);
      if (o.type === undefined) throw formError(`${field}.${i}.type`, 'BASE_TYPE_REQUIRED', 'This field is required');
      if (type !== 0 && type !== 1) throw formError(`${field}.${i}.type`, 'BASE_TYPE_CHOICES', 'Value must be one of {0, 1}.');
      return { id, type, allow: toBigInt(o.allow).toString(), deny: toBigInt(o.deny).toString() };
    });
  }

  /** Discord only lets a non-admin bot allow/deny permissions it has itself, and never ManageRoles. */
  private checkOverwritePermissions(overwrites: FakeOverwrite[], context: FakeChannel | null): void {
    if (!this.enforcePermissions) return;
    const base = this.basePermissions(this.botUserId);
    if (base & P.Administrator) return;
    const has = context ? this.permissionsIn(context, this.botUserId) | base : base;
    for (const o of overwrites) {
      const bits = toBigInt(o.allow) | toBigInt(o.deny);
      if ((bits & P.ManageRoles) !== 0n || (bits & ~has) !== 0n) throw missingPermissions();
    }
  }

  private normalizeName(raw: unknown, type: number, field = 'name'): string {
    if (raw === undefined || raw === null) throw formError(field, 'BASE_TYPE_REQUIRED', 'This field is required');
    const name = String(raw);
    if (name.length < 1 || name.length > 100) throw formError(field, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    if (type === 0 || type === 5 || type === 15) {
      // Text-like channels: Discord lowercases and turns whitespace into dashes.
      const normalized = name.toLowerCase().trim().replace(/\s+/g, '-').replace(/-{2,}/g, '-');
      if (normalized.length === 0) throw formError(field, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      return normalized;
    }
    return name;
  }

  private guildChannelCount(): number {
    return [...this.channels.values()].filter((c) => c.guild_id === this.guildId).length;
  }

  private childrenOf(parentId: string): FakeChannel[] {
    return [...this.channels.values()].filter((c) => c.parent_id === parentId);
  }

  private checkParent(parentId: string | null, type: number, movingId?: string): void {
    if (parentId === null) return;
    if (type === 4) throw formError('parent_id', 'CHANNEL_PARENT_INVALID_TYPE', 'Categories cannot have subcategories');
    const parent = this.channels.get(parentId);
    if (!parent || parent.type !== 4) throw formError('parent_id', 'CHANNEL_PARENT_INVALID', 'Category does not exist');
    const siblings = this.childrenOf(parentId).filter((c) => c.id !== movingId);
    if (siblings.length >= this.categoryLimit) {
      throw formError('parent_id', 'CHANNEL_PARENT_MAX_CHANNELS', 'Maximum number of channels in category reached (50)');
    }
  }

  private createGuildChannel(body: Json, checkPermissions: boolean): FakeChannel {
    const type = body.type === undefined || body.type === null ? 0 : Number(body.type);
    if (![0, 2, 4, 5, 13, 15].includes(type)) throw formError('type', 'BASE_TYPE_CHOICES', 'Value must be one of {0, 2, 4, 5, 13, 15}.');
    const name = this.normalizeName(body.name, type);
    if (this.guildChannelCount() >= 500) throw new HttpError(400, { message: 'Maximum number of guild channels reached (500)', code: 30013 });
    const parentId = optString(body.parent_id) ?? null;
    this.checkParent(parentId, type);
    if (tooLong(body.topic, 1024)) throw formError('topic', 'BASE_TYPE_MAX_LENGTH', 'Must be 1024 or fewer in length.');
    const overwrites = this.parseOverwrites(body.permission_overwrites, 'permission_overwrites');
    if (checkPermissions && this.enforcePermissions) {
      const parent = parentId ? this.channels.get(parentId) ?? null : null;
      const perms = parent ? this.permissionsIn(parent, this.botUserId) : this.basePermissions(this.botUserId);
      if (!(perms & P.ManageChannels)) throw missingPermissions();
      this.checkOverwritePermissions(overwrites, parent);
    }
    const siblings = [...this.channels.values()].filter((c) => c.guild_id === this.guildId && c.parent_id === parentId && (c.type === 4) === (type === 4));
    const position = body.position !== undefined && body.position !== null ? Number(body.position) : siblings.reduce((max, c) => Math.max(max, c.position + 1), 0);
    const channel: FakeChannel = {
      id: snowflake(),
      type,
      name,
      guild_id: this.guildId,
      parent_id: parentId,
      position,
      permission_overwrites: overwrites,
      topic: optString(body.topic) ?? null,
      nsfw: body.nsfw === true,
      last_message_id: null,
      rate_limit_per_user: Number(body.rate_limit_per_user ?? 0),
    };
    this.channels.set(channel.id, channel);
    this.dispatch('CHANNEL_CREATE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
    return channel;
  }

  private recordRename(channelId: string): void {
    if (!this.channelRenameLimit) return;
    const now = Date.now();
    const windowMs = 10 * 60 * 1000;
    const recent = (this.renames.get(channelId) ?? []).filter((t) => t > now - windowMs);
    if (recent.length >= 2) {
      const retryAfter = Math.max(0.001, ((recent[0] ?? now) + windowMs - now) / 1000);
      throw this.rateLimitError(retryAfter, false, `channel-rename-${channelId}`, 'shared');
    }
    recent.push(now);
    this.renames.set(channelId, recent);
  }

  private rateLimitError(retryAfter: number, global: boolean, bucket: string, scope = 'user', body?: Json): HttpError {
    const headers: Record<string, string> = {
      'retry-after': String(retryAfter),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String((Date.now() / 1000 + retryAfter).toFixed(3)),
      'x-ratelimit-reset-after': retryAfter.toFixed(3),
      'x-ratelimit-bucket': bucket,
      'x-ratelimit-scope': global ? 'global' : scope,
    };
    if (global) headers['x-ratelimit-global'] = 'true';
    return new HttpError(429, body ?? { message: 'You are being rate limited.', retry_after: retryAfter, global }, headers);
  }

  private buildOptions(
    defs: CommandOption[],
    path: string[],
    values: Record<string, string | number | boolean>,
    resolved: { users: Json; members: Json; roles: Json; channels: Json },
    label: string,
  ): Json[] {
    const [next, ...rest] = path;
    if (next !== undefined) {
      const sub = defs.find((d) => d.name === next && (d.type === 1 || d.type === 2));
      if (!sub) throw new Error(`fake discord: ${label}: no subcommand (group) "${next}"`);
      return [{ type: sub.type, name: sub.name, options: this.buildOptions(sub.options ?? [], rest, values, resolved, label) }];
    }
    if (defs.some((d) => d.type === 1 || d.type === 2)) throw new Error(`fake discord: ${label}: a subcommand is required`);
    for (const key of Object.keys(values)) {
      if (!defs.some((d) => d.name === key)) throw new Error(`fake discord: ${label}: unknown option "${key}"`);
    }
    const out: Json[] = [];
    for (const def of defs) {
      const value = values[def.name];
      if (value === undefined) {
        if (def.required) throw new Error(`fake discord: ${label}: option "${def.name}" is required`);
        continue;
      }
      let wire: string | number | boolean;
      switch (def.type) {
        case 3:
          wire = String(value);
          break;
        case 4:
          wire = Number(value);
          if (!Number.isInteger(wire)) throw new Error(`fake discord: ${label}: option "${def.name}" must be an integer`);
          break;
        case 10:
          wire = Number(value);
          break;
        case 5:
          wire = value === true || value === 'true';
          break;
        case 6:
        case 9: {
          wire = String(value);
          const user = this.users.get(wire);
          const member = this.members.get(wire);
          const role = this.roles.get(wire);
          if (user) resolved.users[wire] = this.apiUserFor(wire);
          if (member) resolved.members[wire] = { ...this.apiMember(member, false), permissions: '0' };
          if (role && def.type === 9) resolved.roles[wire] = this.apiRole(role);
          if (!user && !(role && def.type === 9)) throw new Error(`fake discord: ${label}: option "${def.name}": unknown user ${wire}`);
          break;
        }
        case 7: {
          wire = String(value);
          const channel = this.channels.get(wire);
          if (!channel) throw new Error(`fake discord: ${label}: option "${def.name}": unknown channel ${wire}`);
          resolved.channels[wire] = { ...this.apiChannel(channel), permissions: this.permissionsIn(channel, this.botUserId).toString() };
          break;
        }
        case 8: {
          wire = String(value);
          const role = this.roles.get(wire);
          if (!role) throw new Error(`fake discord: ${label}: option "${def.name}": unknown role ${wire}`);
          resolved.roles[wire] = this.apiRole(role);
          break;
        }
        default:
          wire = value;
      }
      if (def.choices && !def.choices.some((c) => c.value === wire)) {
        throw new Error(`fake discord: ${label}: option "${def.name}" must be one of ${def.choices.map((c) => String(c.value)).join(', ')}`);
      }
      out.push({ type: def.type, name: def.name, value: wire });
    }
    return out;
  }

  private createInteraction(type: number, channel: FakeChannel, member: FakeMember, data: Json, extra: { commandName?: string; customId?: string; message?: Json }): FakeInteraction {
    const id = snowflake();
    const token = `aW50ZXJhY3Rpb246${id}:${Buffer.from(snowflake()).toString('base64url')}`;
    const payload: Json = {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      data,
      guild_id: this.guildId,
      guild: { id: this.guildId, locale: 'en-US', features: [] },
      channel_id: channel.id,
      channel: { ...this.apiChannel(channel), permissions: this.permissionsIn(channel, member.user.id).toString() },
      member: { ...this.apiMember(member), permissions: this.permissionsIn(channel, member.user.id).toString() },
      app_permissions: this.permissionsIn(channel, this.botUserId).toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: 10485760,
      ...(extra.message ? { message: extra.message } : {}),
    };
    const interaction: FakeInteraction = {
      id,
      token,
      type,
      ...(extra.commandName ? { commandName: extra.commandName } : {}),
      ...(extra.customId ? { customId: extra.customId } : {}),
      channelId: channel.id,
      userId: member.user.id,
      createdAt: Date.now(),
      responses: [],
      payload,
    };
    this.interactions.push(interaction);
    this.dispatch('INTERACTION_CREATE', payload, { guildId: this.guildId });
    return interaction;
  }

  /** APPLICATION_COMMAND_AUTOCOMPLETE_RESULT: at most 25 choices, each a name of 1-100 characters and a value. */
  private validateChoices(choices: unknown): void {
    if (!Array.isArray(choices)) throw formError('data.choices', 'BASE_TYPE_REQUIRED', 'This field is required');
    if (choices.length > 25) throw formError('data.choices', 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    for (const [i, choice] of choices.entries()) {
      const { name, value } = asObject(choice);
      if (typeof name !== 'string' || name.length < 1 || name.length > 100) throw formError(`data.choices.${i}.name`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      if (typeof value !== 'string' && typeof value !== 'number') throw formError(`data.choices.${i}.value`, 'BASE_TYPE_REQUIRED', 'This field is required');
    }
  }

  private interactionByToken(appId: string | undefined, token: string | undefined): FakeInteraction {
    const interaction = this.interactions.find((i) => i.token === token);
    if (appId !== this.applicationId || !interaction || Date.now() - interaction.createdAt > 15 * 60 * 1000) {
      throw unknownError('Webhook', 10015);
    }
    return interaction;
  }

  private interactionMessage(interaction: FakeInteraction, messageId: string | undefined): FakeMessage {
    const id = messageId === '@original' ? interaction.originalMessageId : messageId;
    const message = this.messages.find((m) => m.id === id && m.interaction_id === interaction.id && !m.deleted);
    if (!message) throw unknownError('Message', 10008);
    return message;
  }

  // -------------------------------------------------------------------------------------------
  // Gateway

  private send(conn: GatewayConnection, payload: Json): void {
    this.sendText(conn, JSON.stringify(payload));
  }

  private sendText(conn: GatewayConnection, text: string): void {
    const { zlib: encoder } = conn;
    if (!encoder) {
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(text);
      return;
    }
    conn.queue = conn.queue.then(async () => {
      const buffer = await encoder.encode(text);
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(buffer);
    });
  }

  private dispatch(t: string, d: Json, options: DispatchOptions = {}): void {
    for (const session of this.sessions.values()) {
      if (options.intent && !(session.intents & options.intent)) continue;
      if (options.guildId && !this.guildOnShard(options.guildId, session.shard)) continue;
      this.dispatchTo(session, t, options.transform ? options.transform(session, d) : d);
    }
  }

  private dispatchTo(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    const text = JSON.stringify({ op: Op.Dispatch, t, s: session.seq, d });
    session.buffer.push({ s: session.seq, text });
    if (session.buffer.length > 1000) session.buffer.shift();
    if (session.conn) this.sendText(session.conn, text);
  }

  private guildOnShard(guildId: string, [shardId, shardCount]: [number, number]): boolean {
    return shardCount <= 1 || Number((BigInt(guildId) >> 22n) % BigInt(shardCount)) === shardId;
  }

  private onGatewayConnection(ws: WebSocket, url: URL): void {
    const compress = url.searchParams.get('compress');
    const conn: GatewayConnection = { ws, session: null, zlib: compress === 'zlib-stream' ? new ZlibStream() : null, queue: Promise.resolve() };
    this.connections.add(conn);
    this.gateway.connections++;
    ws.on('close', () => {
      this.connections.delete(conn);
      conn.zlib?.close();
      if (conn.session?.conn === conn) conn.session.conn = null;
    });
    ws.on('error', () => undefined);
    const version = url.searchParams.get('v');
    if (version !== null && version !== '9' && version !== '10') {
      ws.close(4012, 'Invalid API version');
      return;
    }
    if ((url.searchParams.get('encoding') ?? 'json') !== 'json') {
      ws.close(4002, 'Error while decoding payload.');
      return;
    }
    if (compress !== null && compress !== 'zlib-stream') {
      ws.close(4002, 'Error while decoding payload.');
      return;
    }
    ws.on('message', (raw: RawData) => this.onGatewayMessage(conn, raw));
    this.send(conn, { op: Op.Hello, d: { heartbeat_interval: this.heartbeatIntervalMs, _trace: ['["fake-discord-gateway",{"micros":0}]'] }, s: null, t: null });
  }

  private onGatewayMessage(conn: GatewayConnection, raw: RawData): void {
    let payload: Json;
    try {
      payload = asObject(JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(raw as Buffer[]).toString('utf8')));
    } catch {
      conn.ws.close(4002, 'Error while decoding payload.');
      return;
    }
    const op = Number(payload.op);
    const d = payload.d;
    this.gateway.received.push({ op, at: Date.now() });
    switch (op) {
      case Op.Heartbeat:
        this.send(conn, { op: Op.HeartbeatAck, d: null });
        return;
      case Op.Identify:
        this.identify(conn, asObject(d));
        return;
      case Op.Resume:
        this.resume(conn, asObject(d));
        return;
      case Op.PresenceUpdate:
        if (!conn.session) break;
        this.gateway.presence = d;
        return;
      case Op.VoiceStateUpdate:
        if (!conn.session) break;
        return;
      case Op.RequestGuildMembers: {
        if (!conn.session) break;
        const req = asObject(d);
        const ids = asArray(req.user_ids).map(String);
        const query = typeof req.query === 'string' ? req.query.toLowerCase() : '';
        const limit = Number(req.limit ?? 0);
        let members = [...this.members.values()];
        if (ids.length > 0) members = members.filter((m) => ids.includes(m.user.id));
        else if (query) members = members.filter((m) => m.user.username.toLowerCase().startsWith(query));
        if (limit > 0) members = members.slice(0, limit);
        this.dispatchTo(conn.session, 'GUILD_MEMBERS_CHUNK', {
          guild_id: this.guildId,
          members: members.map((m) => this.apiMember(m)),
          chunk_index: 0,
          chunk_count: 1,
          not_found: ids.filter((id) => !this.members.has(id)),
          ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
        });
        return;
      }
      default:
        conn.ws.close(4001, 'Unknown opcode.');
        return;
    }
    conn.ws.close(4003, 'Not authenticated.');
  }

  private identify(conn: GatewayConnection, d: Json): void {
    if (conn.session) {
      conn.ws.close(4005, 'Already authenticated.');
      return;
    }
    if (d.token !== this.token) {
      conn.ws.close(4004, 'Authentication failed.');
      return;
    }
    if (typeof d.intents !== 'number' || d.intents < 0 || d.intents >= 1 << 26) {
      conn.ws.close(4013, 'Invalid intent(s).');
      return;
    }
    const intents = d.intents;
    if (
      (intents & Intent.MessageContent && !this.privilegedIntents.messageContent) ||
      (intents & Intent.GuildMembers && !this.privilegedIntents.guildMembers) ||
      (intents & Intent.GuildPresences && !this.privilegedIntents.presences)
    ) {
      conn.ws.close(4014, 'Disallowed intent(s).');
      return;
    }
    const shardRaw = asArray(d.shard);
    const shard: [number, number] = [Number(shardRaw[0] ?? 0), Number(shardRaw[1] ?? 1)];
    if (shard[0] >= shard[1]) {
      conn.ws.close(4010, 'Invalid shard.');
      return;
    }
    this.gateway.identifies++;
    this.gateway.lastIntents = intents;
    if (d.presence !== undefined) this.gateway.presence = d.presence;
    const session: GatewaySession = { id: Buffer.from(snowflake()).toString('hex').slice(0, 32), token: this.token, intents, shard, seq: 0, conn, buffer: [] };
    this.sessions.set(session.id, session);
    conn.session = session;
    const onShard = this.guildOnShard(this.guildId, shard);
    this.dispatchTo(session, 'READY', {
      v: 10,
      user_settings: {},
      user: { ...this.botUser, verified: true, mfa_enabled: false, flags: 0, email: null },
      guilds: onShard ? [{ id: this.guildId, unavailable: true }] : [],
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.gatewayUrl,
      shard,
      application: { id: this.applicationId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['fake'],
      auth: {},
      _trace: ['["fake-discord-gateway",{"micros":0}]'],
    });
    if (onShard && intents & Intent.Guilds) this.dispatchTo(session, 'GUILD_CREATE', this.guildCreatePayload(intents));
  }

  private guildCreatePayload(intents: number): Json {
    const guildChannels = [...this.channels.values()].filter((c) => c.guild_id === this.guildId);
    // Like Discord: members holds the bot (plus everyone only with the presences intent on small guilds).
    const members = intents & Intent.GuildPresences ? [...this.members.values()] : [this.members.get(this.botUserId)!];
    return {
      ...this.apiGuild(),
      joined_at: this.members.get(this.botUserId)!.joined_at,
      large: false,
      unavailable: false,
      member_count: this.members.size,
      voice_states: [],
      members: members.map((m) => this.apiMember(m)),
      channels: guildChannels.map((c) => this.apiChannel(c)),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      embedded_activities: [],
      application_command_counts: {},
      lazy: true,
    };
  }

  private resume(conn: GatewayConnection, d: Json): void {
    if (conn.session) {
      conn.ws.close(4005, 'Already authenticated.');
      return;
    }
    const session = this.sessions.get(String(d.session_id));
    const seq = Number(d.seq ?? 0);
    const oldest = session?.buffer[0]?.s ?? 1;
    if (!session || d.token !== session.token || seq > session.seq || (seq + 1 < oldest && session.buffer.length > 0)) {
      this.send(conn, { op: Op.InvalidSession, d: false });
      return;
    }
    this.gateway.resumes++;
    if (session.conn && session.conn !== conn) session.conn.ws.close(4000, 'Session resumed elsewhere.');
    session.conn = conn;
    conn.session = session;
    for (const entry of session.buffer) if (entry.s > seq) this.sendText(conn, entry.text);
    this.dispatchTo(session, 'RESUMED', { _trace: ['["fake-discord-gateway",{"micros":0}]'] });
  }

  // -------------------------------------------------------------------------------------------
  // REST

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
      const id = url.pathname.split('/')[3] ?? '';
      const stored = this.attachmentData.get(id);
      res.writeHead(stored ? 200 : 404, { 'content-type': stored?.contentType ?? 'text/plain' });
      res.end(stored?.data ?? 'Not Found');
      return;
    }

    const apiMatch = /^\/api(?:\/v(\d+))?(\/.*)$/.exec(url.pathname);
    const path = apiMatch ? (apiMatch[2] ?? '/') : url.pathname;
    const auth = req.headers.authorization;
    const reason = req.headers['x-audit-log-reason'];
    const entry: FakeRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: null,
      files: [],
      status: 0,
      authorized: auth === `Bot ${this.token}`,
      ...(typeof reason === 'string' ? { auditLogReason: decodeURIComponent(reason) } : {}),
      at: Date.now(),
    };
    this.requests.push(entry);

    let reply: Reply;
    let headers: Record<string, string> = {};
    try {
      const { body, files } = await this.parseBody(req.headers['content-type'] ?? '', raw);
      entry.body = body;
      entry.files = files.map((f) => ({ field: f.field, filename: f.filename, size: f.data.length, contentType: f.contentType }));
      if (!apiMatch) throw new HttpError(404, { message: '404: Not Found', code: 0 });
      const late = await this.applyInjection(method, path);
      const found = this.matchRoute(method, path);
      if (!found) throw new HttpError(404, { message: '404: Not Found', code: 0 });
      if (found.route.auth && !entry.authorized) throw new HttpError(401, { message: '401: Unauthorized', code: 0 });
      reply = await found.route.handler({ params: found.params, body: asObject(body), rawBody: body, query: url.searchParams, files });
      if (late) throw late;
    } catch (error) {
      if (error instanceof HttpError) {
        reply = { status: error.status, body: error.body };
        headers = error.headers;
      } else {
        reply = { status: 500, body: { message: `fake discord crashed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`, code: 0 } };
      }
    }
    entry.status = reply.status;
    if (reply.status === 429) {
      this.rateLimited.push({ method, path, retryAfter: Number(headers['retry-after'] ?? 0), at: entry.at });
    }
    if (reply.status === 204 || reply.body === undefined) {
      res.writeHead(reply.status === 200 ? 204 : reply.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async parseBody(contentType: string, raw: Buffer): Promise<{ body: unknown; files: Upload[] }> {
    if (raw.length === 0) return { body: null, files: [] };
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://127.0.0.1/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
      let body: unknown = {};
      const files: Upload[] = [];
      for (const [field, value] of form.entries()) {
        if (typeof value === 'string') {
          if (field === 'payload_json') body = JSON.parse(value) as unknown;
        } else {
          files.push({ field, filename: value.name, data: Buffer.from(await value.arrayBuffer()), contentType: value.type || 'application/octet-stream' });
        }
      }
      return { body, files };
    }
    try {
      return { body: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
    } catch {
      throw new HttpError(400, { message: '400: Bad Request', code: 0 });
    }
  }

  /** Throws an injected failure, or returns it when it should come after the request is carried out. */
  private async applyInjection(method: string, path: string): Promise<HttpError | undefined> {
    while (this.restHold) await this.restHold.released;
    if (this.outage) throw this.injectedFailure(method, path, this.outage);
    const index = this.injections.findIndex((i) => (i.method === '*' || i.method === method) && i.regex.test(path) && i.remaining > 0);
    if (index < 0) return undefined;
    const injection = this.injections[index]!;
    injection.remaining -= 1;
    if (injection.remaining <= 0) this.injections.splice(index, 1);
    if (injection.delayMs) await new Promise((resolve) => setTimeout(resolve, injection.delayMs));
    const fail = injection.fail;
    if (!fail) return undefined;
    if (fail.afterHandler) return this.injectedFailure(method, path, fail);
    throw this.injectedFailure(method, path, fail);
  }

  private injectedFailure(method: string, path: string, fail: Omit<FailOptions, 'count'>): HttpError {
    if (fail.status === 429) {
      const retryAfter = fail.retryAfter ?? 0.1;
      return this.rateLimitError(retryAfter, fail.global ?? false, `fake-${method}-${path}`, 'user', fail.body);
    }
    return new HttpError(fail.status, fail.body ?? { message: fail.status >= 500 ? `${fail.status}: Internal Server Error` : `${fail.status}: Error`, code: 0 });
  }

  private matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | null {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { route, params };
    }
    return null;
  }

  private on(method: string, pattern: string, handler: Route['handler'], auth = true): void {
    const { regex, keys } = compilePath(pattern);
    this.routes.push({ method, regex, keys, auth, handler });
  }

  private defineRoutes(): void {
    const gatewayBot = () => ({
      url: this.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14400000, max_concurrency: 1 },
    });
    this.on('GET', '/gateway/bot', () => ok(gatewayBot()));
    this.on('GET', '/gateway', () => ok({ url: this.gatewayUrl }), false);

    // Users and application
    this.on('GET', '/users/@me', () => ok({ ...this.apiUserFor(this.botUserId), verified: true, mfa_enabled: false, flags: 0, email: null }));
    this.on('GET', '/users/:userId', ({ params }) => {
      if (!this.users.has(params.userId ?? '')) throw unknownError('User', 10013);
      return ok(this.apiUserFor(params.userId ?? ''));
    });
    this.on('POST', '/users/@me/channels', ({ body }) => {
      const recipientId = optString(body.recipient_id) ?? '';
      const user = this.users.get(recipientId);
      if (!user) throw formError('recipient_id', 'NUMBER_TYPE_COERCE', `Value "${recipientId}" is not snowflake.`);
      let dm = [...this.channels.values()].find((c) => c.type === 1 && c.recipients?.[0]?.id === recipientId);
      if (!dm) {
        dm = { id: snowflake(), type: 1, name: null, parent_id: null, position: 0, permission_overwrites: [], topic: null, nsfw: false, last_message_id: null, rate_limit_per_user: 0, recipients: [{ ...user }] };
        this.channels.set(dm.id, dm);
      }
      return ok(this.apiChannel(dm));
    });
    const application = () => ({
      id: this.applicationId,
      name: this.botUser.username,
      icon: null,
      description: '',
      summary: '',
      type: null,
      bot_public: false,
      bot_require_code_grant: false,
      verify_key: 'f'.repeat(64),
      flags: 0,
      team: null,
      owner: this.apiUserFor(this.ownerId),
      bot: this.apiUserFor(this.botUserId),
      install_params: null,
      tags: [],
      approximate_guild_count: 1,
    });
    this.on('GET', '/applications/@me', () => ok(application()));
    this.on('GET', '/oauth2/applications/@me', () => ok(application()));

    // Application commands
    const commandScope = (appId: string | undefined, guildId: string | undefined): string | undefined => {
      if (appId !== this.applicationId) throw unknownError('Application', 10002);
      if (guildId !== undefined) this.guildOr404(guildId);
      return guildId;
    };
    const buildCommand = (raw: unknown, guildId: string | undefined, index: number | null, existing?: FakeCommand): FakeCommand => {
      const c = asObject(raw);
      const prefix = index === null ? '' : `${index}.`;
      const type = Number(c.type ?? 1);
      const name = optString(c.name) ?? '';
      if (!name) throw formError(`${prefix}name`, 'BASE_TYPE_REQUIRED', 'This field is required');
      if (type === 1 && !/^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u.test(name)) {
        throw formError(`${prefix}name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
      }
      const description = optString(c.description) ?? '';
      if (type === 1 && (description.length < 1 || description.length > 100)) {
        throw formError(`${prefix}description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      }
      const options = asArray(c.options) as CommandOption[];
      if (options.length > 25) throw formError(`${prefix}options`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      return {
        ...c,
        id: existing?.id ?? snowflake(),
        application_id: this.applicationId,
        ...(guildId ? { guild_id: guildId } : {}),
        name,
        description,
        type,
        options,
        default_member_permissions: c.default_member_permissions === undefined || c.default_member_permissions === null ? null : String(c.default_member_permissions),
        version: snowflake(),
        nsfw: c.nsfw === true,
        contexts: c.contexts ?? null,
        integration_types: c.integration_types ?? [0],
      };
    };
    const inScope = (guildId: string | undefined) => this.commands.filter((c) => c.guild_id === guildId);
    const putCommands = ({ params, rawBody }: RouteContext): Reply => {
      const guildId = commandScope(params.appId, params.guildId);
      if (!Array.isArray(rawBody)) throw formError('_root', 'BASE_TYPE_BAD_TYPE', 'Must be an array.');
      if (rawBody.length > 100) throw new HttpError(400, { message: 'Maximum number of application commands reached (100)', code: 30032 });
      const old = inScope(guildId);
      const next = rawBody.map((raw, i) => buildCommand(raw, guildId, i, old.find((o) => o.name === asObject(raw).name)));
      const names = new Set<string>();
      next.forEach((c, i) => {
        const key = `${c.type}:${c.name}`;
        if (names.has(key)) throw formError(`${i}.name`, 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
        names.add(key);
      });
      for (const c of old) this.commands.splice(this.commands.indexOf(c), 1);
      this.commands.push(...next);
      return ok(next);
    };
    const listCommands = ({ params }: RouteContext): Reply => ok(inScope(commandScope(params.appId, params.guildId)));
    const postCommand = ({ params, body }: RouteContext): Reply => {
      const guildId = commandScope(params.appId, params.guildId);
      const existing = inScope(guildId).find((c) => c.name === body.name);
      const command = buildCommand(body, guildId, null, existing);
      if (existing) this.commands.splice(this.commands.indexOf(existing), 1, command);
      else this.commands.push(command);
      return existing ? ok(command) : created(command);
    };
    const findCommand = (params: Record<string, string>): FakeCommand => {
      const guildId = commandScope(params.appId, params.guildId);
      const command = inScope(guildId).find((c) => c.id === params.commandId);
      if (!command) throw unknownError('application command', 10063);
      return command;
    };
    for (const base of ['/applications/:appId/commands', '/applications/:appId/guilds/:guildId/commands']) {
      this.on('GET', base, listCommands);
      this.on('PUT', base, putCommands);
      this.on('POST', base, postCommand);
      this.on('GET', `${base}/:commandId`, ({ params }) => ok(findCommand(params)));
      this.on('PATCH', `${base}/:commandId`, ({ params, body }) => {
        const command = findCommand(params);
        const updated = buildCommand({ ...command, ...body }, command.guild_id, null, command);
        this.commands.splice(this.commands.indexOf(command), 1, updated);
        return ok(updated);
      });
      this.on('DELETE', `${base}/:commandId`, ({ params }) => {
        const command = findCommand(params);
        this.commands.splice(this.commands.indexOf(command), 1);
        return noContent();
      });
    }

    // Guild
    this.on('GET', '/guilds/:guildId', ({ params, query }) => {
      this.guildOr404(params.guildId);
      const counts = query.get('with_counts') === 'true' ? { approximate_member_count: this.members.size, approximate_presence_count: 1 } : {};
      return ok({ ...this.apiGuild(), ...counts });
    });
    this.on('GET', '/guilds/:guildId/channels', ({ params }) => {
      this.guildOr404(params.guildId);
      return ok([...this.channels.values()].filter((c) => c.guild_id === this.guildId).map((c) => this.apiChannel(c)));
    });
    this.on('POST', '/guilds/:guildId/channels', ({ params, body }) => {
      this.guildOr404(params.guildId);
      return created(this.apiChannel(this.createGuildChannel(body, true)));
    });
    this.on('PATCH', '/guilds/:guildId/channels', ({ params, rawBody }) => {
      this.guildOr404(params.guildId);
      if (this.enforcePermissions && !(this.basePermissions(this.botUserId) & P.ManageChannels)) throw missingPermissions();
      for (const raw of asArray(rawBody)) {
        const change = asObject(raw);
        const channel = this.channelOr404(optString(change.id));
        if (change.position !== undefined && change.position !== null) channel.position = Number(change.position);
        if (change.parent_id !== undefined) {
          const parentId = optString(change.parent_id) ?? null;
          this.checkParent(parentId, channel.type, channel.id);
          channel.parent_id = parentId;
        }
        this.dispatch('CHANNEL_UPDATE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
      }
      return noContent();
    });
    this.on('GET', '/guilds/:guildId/roles', ({ params }) => {
      this.guildOr404(params.guildId);
      return ok([...this.roles.values()].map((r) => this.apiRole(r)));
    });
    this.on('GET', '/guilds/:guildId/members/:userId', ({ params }) => {
      this.guildOr404(params.guildId);
      const member = this.members.get(params.userId ?? '');
      if (!member) throw unknownError('Member', 10007);
      return ok(this.apiMember(member));
    });
    this.on('GET', '/guilds/:guildId/members', ({ params, query }) => {
      this.guildOr404(params.guildId);
      const limit = Number(query.get('limit') ?? 1);
      const after = query.get('after') ?? '0';
      const list = [...this.members.values()]
        .filter((m) => BigInt(m.user.id) > BigInt(after))
        .sort((a, b) => (BigInt(a.user.id) < BigInt(b.user.id) ? -1 : 1))
        .slice(0, limit);
      return ok(list.map((m) => this.apiMember(m)));
    });
    const memberRole = (add: boolean) => ({ params }: RouteContext): Reply => {
      this.guildOr404(params.guildId);
      const member = this.members.get(params.userId ?? '');
      if (!member) throw unknownError('Member', 10007);
      const role = this.roles.get(params.roleId ?? '');
      if (!role) throw unknownError('Role', 10011);
      if (this.enforcePermissions) {
        const botTop = Math.max(...(this.members.get(this.botUserId)?.roles ?? []).map((id) => this.roles.get(id)?.position ?? 0));
        if (!(this.basePermissions(this.botUserId) & P.ManageRoles) || role.position >= botTop) throw missingPermissions();
      }
      member.roles = add ? [...new Set([...member.roles, role.id])] : member.roles.filter((r) => r !== role.id);
      this.dispatch('GUILD_MEMBER_UPDATE', { guild_id: this.guildId, ...this.apiMember(member) }, { intent: Intent.GuildMembers, guildId: this.guildId });
      return noContent();
    };
    this.on('PUT', '/guilds/:guildId/members/:userId/roles/:roleId', memberRole(true));
    this.on('DELETE', '/guilds/:guildId/members/:userId/roles/:roleId', memberRole(false));

    // Channels
    this.on('GET', '/channels/:channelId', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.ViewChannel);
      return ok(this.apiChannel(channel));
    });
    this.on('PATCH', '/channels/:channelId', ({ params, body }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.ManageChannels);
      const next: FakeChannel = { ...channel, permission_overwrites: [...channel.permission_overwrites] };
      if (body.name !== undefined) next.name = this.normalizeName(body.name, channel.type);
      if (body.topic !== undefined) {
        if (tooLong(body.topic, 1024)) throw formError('topic', 'BASE_TYPE_MAX_LENGTH', 'Must be 1024 or fewer in length.');
        next.topic = optString(body.topic) ?? null;
      }
      if (body.nsfw !== undefined) next.nsfw = body.nsfw === true;
      if (body.position !== undefined && body.position !== null) next.position = Number(body.position);
      if (body.rate_limit_per_user !== undefined) next.rate_limit_per_user = Number(body.rate_limit_per_user ?? 0);
      if (body.parent_id !== undefined) {
        next.parent_id = optString(body.parent_id) ?? null;
        if (next.parent_id !== channel.parent_id) this.checkParent(next.parent_id, channel.type, channel.id);
      }
      if (body.permission_overwrites !== undefined) {
        next.permission_overwrites = this.parseOverwrites(body.permission_overwrites, 'permission_overwrites');
        if (this.enforcePermissions && !(this.permissionsIn(channel, this.botUserId) & P.ManageRoles)) throw missingPermissions();
        this.checkOverwritePermissions(next.permission_overwrites, channel);
      }
      if (body.lock_permissions === true && next.parent_id) {
        next.permission_overwrites = [...(this.channels.get(next.parent_id)?.permission_overwrites ?? [])].map((o) => ({ ...o }));
      }
      if (next.name !== channel.name) this.recordRename(channel.id);
      Object.assign(channel, next);
      this.dispatch('CHANNEL_UPDATE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
      return ok(this.apiChannel(channel));
    });
    this.on('DELETE', '/channels/:channelId', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      if (channel.type === 1) {
        return ok(this.apiChannel(channel)); // closing a DM
      }
      this.requireBot(channel, P.ManageChannels);
      this.removeChannel(channel);
      return ok(this.apiChannel(channel));
    });
    this.on('PUT', '/channels/:channelId/permissions/:overwriteId', ({ params, body }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.ManageRoles);
      const [overwrite] = this.parseOverwrites([{ ...body, id: params.overwriteId }], 'permission_overwrites');
      if (!overwrite) throw formError('type', 'BASE_TYPE_REQUIRED', 'This field is required');
      this.checkOverwritePermissions([overwrite], channel);
      channel.permission_overwrites = [...channel.permission_overwrites.filter((o) => o.id !== overwrite.id), overwrite];
      this.dispatch('CHANNEL_UPDATE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
      return noContent();
    });
    this.on('DELETE', '/channels/:channelId/permissions/:overwriteId', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.ManageRoles);
      channel.permission_overwrites = channel.permission_overwrites.filter((o) => o.id !== params.overwriteId);
      this.dispatch('CHANNEL_UPDATE', this.apiChannel(channel), { intent: Intent.Guilds, guildId: this.guildId });
      return noContent();
    });

    // Messages
    this.on('GET', '/channels/:channelId/messages', ({ params, query }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.ViewChannel);
      if (this.enforcePermissions && channel.guild_id && !(this.permissionsIn(channel, this.botUserId) & P.ReadMessageHistory)) return ok([]);
      const limit = Number(query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw formError('limit', 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 100.');
      let list = this.messagesIn(channel.id).filter((m) => !(m.flags & 64));
      const before = query.get('before');
      const after = query.get('after');
      if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before));
      if (after) {
        list = list.filter((m) => BigInt(m.id) > BigInt(after)).slice(0, limit);
      } else {
        list = list.slice(-limit);
      }
      return ok(list.reverse().map((m) => this.apiMessage(m)));
    });
    this.on('GET', '/channels/:channelId/messages/:messageId', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.ViewChannel | P.ReadMessageHistory);
      const message = this.messagesIn(channel.id).find((m) => m.id === params.messageId && !(m.flags & 64));
      if (!message) throw unknownError('Message', 10008);
      return ok(this.apiMessage(message));
    });
    this.on('POST', '/channels/:channelId/messages', ({ params, body, files }) => {
      const channel = this.channelOr404(params.channelId);
      if (!this.textBased(channel)) throw new HttpError(400, { message: 'Cannot send messages in a non-text channel', code: 50008 });
      this.requireBot(channel, P.SendMessages | (files.length > 0 ? P.AttachFiles : 0n));
      this.validateMessageBody(body, files, true);
      // enforce_nonce: a message by the same author with the same nonce in the last few minutes is
      // returned instead of posting again (how a bot makes retries safe).
      const nonce = typeof body.nonce === 'string' || typeof body.nonce === 'number' ? String(body.nonce) : undefined;
      if (nonce !== undefined && body.enforce_nonce === true) {
        const earlier = this.messagesIn(channel.id).find((m) => m.nonce === nonce && m.author.id === this.botUserId && Date.now() - Date.parse(m.timestamp) < 5 * 60_000);
        if (earlier) return ok(this.apiMessage(earlier));
      }
      const message = this.createBotMessage(channel, body, files, { source: 'bot', ...(nonce !== undefined ? { nonce } : {}) });
      this.dispatchMessage('MESSAGE_CREATE', message);
      return ok(this.apiMessage(message));
    });
    this.on('PATCH', '/channels/:channelId/messages/:messageId', ({ params, body, files }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, 0n);
      const message = this.messagesIn(channel.id).find((m) => m.id === params.messageId);
      if (!message) throw unknownError('Message', 10008);
      if (message.author.id !== this.botUserId) throw new HttpError(403, { message: 'Cannot edit a message authored by another user', code: 50005 });
      this.editMessage(message, body, files);
      this.dispatchMessage('MESSAGE_UPDATE', message);
      return ok(this.apiMessage(message));
    });
    this.on('DELETE', '/channels/:channelId/messages/:messageId', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      const message = this.messagesIn(channel.id).find((m) => m.id === params.messageId);
      if (!message) throw unknownError('Message', 10008);
      this.requireBot(channel, message.author.id === this.botUserId ? 0n : P.ManageMessages);
      message.deleted = true;
      this.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: channel.id, ...(channel.guild_id ? { guild_id: channel.guild_id } : {}) }, {
        intent: channel.guild_id ? Intent.GuildMessages : Intent.DirectMessages,
        guildId: this.guildId,
      });
      return noContent();
    });
    this.on('POST', '/channels/:channelId/typing', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.SendMessages);
      return noContent();
    });
    this.on('PUT', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', ({ params }) => {
      const channel = this.channelOr404(params.channelId);
      this.requireBot(channel, P.AddReactions | P.ReadMessageHistory);
      const message = this.messagesIn(channel.id).find((m) => m.id === params.messageId);
      if (!message) throw unknownError('Message', 10008);
      (message.bot_reactions ??= []).push(decodeURIComponent(params.emoji!));
      return noContent();
    });

    // Interactions (no Authorization header: discord.js sends these with auth: false)
    this.on(
      'POST',
      '/interactions/:interactionId/:token/callback',
      ({ params, body, files, query }) => {
        const interaction = this.interactions.find((i) => i.id === params.interactionId && i.token === params.token);
        if (!interaction || Date.now() - interaction.createdAt > this.interactionResponseTimeoutMs) throw unknownError('interaction', 10062);
        if (interaction.responses.some((r) => r.kind === 'callback')) {
          throw new HttpError(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
        }
        const type = Number(body.type);
        const data = asObject(body.data);
        const componentOnly = type === 6 || type === 7;
        // An autocomplete interaction (type 4) takes only its result (8), and only it takes one.
        if (interaction.type === 4 ? type !== 8 : ![4, 5, 6, 7, 9].includes(type) || (componentOnly && interaction.type !== 3)) {
          throw formError('type', 'BASE_TYPE_CHOICES', interaction.type === 4 ? 'Value must be one of {8} for this interaction.' : 'Value must be one of {4, 5, 9} for this interaction.');
        }
        if (type === 8) this.validateChoices(data.choices);
        const channel = this.channelOr404(interaction.channelId);
        const response: FakeInteractionResponse = { kind: 'callback', type, data, at: Date.now() };
        let message: FakeMessage | undefined;
        if (type === 4 || type === 5) {
          if (type === 4) this.validateMessageBody(data, files, true);
          const flags = Number(data.flags ?? 0) & 64;
          message = this.createBotMessage(channel, type === 4 ? data : {}, type === 4 ? files : [], {
            source: 'interaction',
            interaction_id: interaction.id,
            type: interaction.type === 2 ? 20 : 0,
            flags: flags | (type === 5 ? 128 : 0),
          });
          interaction.originalMessageId = message.id;
          response.messageId = message.id;
          this.dispatchMessage('MESSAGE_CREATE', message);
        } else if (type === 7) {
          const target = this.messages.find((m) => m.id === asObject(interaction.payload.message).id);
          if (target) {
            this.editMessage(target, data, files);
            response.messageId = target.id;
            this.dispatchMessage('MESSAGE_UPDATE', target);
            message = target;
          }
        }
        interaction.responses.push(response);
        if (query.get('with_response') !== 'true') return noContent();
        return ok({
          interaction: {
            id: interaction.id,
            type: interaction.type,
            response_message_id: message?.id,
            response_message_loading: type === 5,
            response_message_ephemeral: message ? (message.flags & 64) !== 0 : false,
          },
          resource: { type, ...(message ? { message: this.apiMessage(message) } : {}) },
        });
      },
      false,
    );
    this.on(
      'GET',
      '/webhooks/:appId/:token/messages/:messageId',
      ({ params }) => ok(this.apiMessage(this.interactionMessage(this.interactionByToken(params.appId, params.token), params.messageId))),
      false,
    );
    this.on(
      'PATCH',
      '/webhooks/:appId/:token/messages/:messageId',
      ({ params, body, files }) => {
        const interaction = this.interactionByToken(params.appId, params.token);
        const message = this.interactionMessage(interaction, params.messageId);
        this.editMessage(message, body, files);
        interaction.responses.push({ kind: 'edit', data: body, messageId: message.id, at: Date.now() });
        this.dispatchMessage('MESSAGE_UPDATE', message);
        return ok(this.apiMessage(message));
      },
      false,
    );
    this.on(
      'DELETE',
      '/webhooks/:appId/:token/messages/:messageId',
      ({ params }) => {
        const interaction = this.interactionByToken(params.appId, params.token);
        const message = this.interactionMessage(interaction, params.messageId);
        message.deleted = true;
        interaction.responses.push({ kind: 'delete', data: {}, messageId: message.id, at: Date.now() });
        if (!(message.flags & 64)) {
          this.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channel_id, guild_id: this.guildId }, { intent: Intent.GuildMessages, guildId: this.guildId });
        }
        return noContent();
      },
      false,
    );
    this.on(
      'POST',
      '/webhooks/:appId/:token',
      ({ params, body, files, query }) => {
        const interaction = this.interactionByToken(params.appId, params.token);
        if (!interaction.responses.some((r) => r.kind === 'callback')) throw unknownError('Webhook', 10015);
        this.validateMessageBody(body, files, true);
        const original = interaction.originalMessageId ? this.messages.find((m) => m.id === interaction.originalMessageId) : undefined;
        let message: FakeMessage;
        if (original && original.flags & 128 && !original.deleted) {
          // Like Discord: the first followup after a deferred reply replaces the "thinking..." message.
          this.editMessage(original, body, files);
          message = original;
          this.dispatchMessage('MESSAGE_UPDATE', message);
        } else {
          const channel = this.channelOr404(interaction.channelId);
          message = this.createBotMessage(channel, body, files, {
            source: 'interaction',
            interaction_id: interaction.id,
            webhook_id: this.applicationId,
            flags: Number(body.flags ?? 0) & 64,
          });
          this.dispatchMessage('MESSAGE_CREATE', message);
        }
        interaction.responses.push({ kind: 'followup', data: body, messageId: message.id, at: Date.now() });
        return query.get('wait') === 'true' ? ok(this.apiMessage(message)) : noContent();
      },
      false,
    );
  }
}

function findComponent(components: unknown[], customId: string): Json | undefined {
  for (const raw of components) {
    const c = asObject(raw);
    if (c.custom_id === customId) return c;
    const inner = findComponent(asArray(c.components), customId);
    if (inner) return inner;
  }
  return undefined;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const fake = new FakeDiscord(options);
  await fake.listen();
  return fake;
}
