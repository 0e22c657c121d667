// A real SMTP server in-process (smtp-server) on 127.0.0.1 that the REAL nodemailer transport sends to.
//
//   const fake = await startFakeSmtp();
//   const transport = nodemailer.createTransport(fake.url); // smtp://user:pass@127.0.0.1:PORT
//
// Plain SMTP without STARTTLS (it is not advertised, so nodemailer stays in plaintext), AUTH PLAIN
// and LOGIN over the insecure connection, accepted only with the configured user/pass (535 otherwise);
// by default mail without AUTH is refused with 530 like a submission server. Every accepted message
// is parsed with mailparser's simpleParser and kept in `messages`.
//
// Driver methods act like a misbehaving mail server would:
//   stall(true)            accept TCP connections and never say a word (nodemailer's greetingTimeout)
//   stall(true, 'data')    take the whole message and never answer the final "." (socketTimeout)
//   failNext(n, 451, msg)  the next n transactions get a temporary (4xx) or permanent (5xx) reply
//   down() / up()          stop listening (ECONNREFUSED) / listen again on the SAME port
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { pollUntil } from './wait.js';

export interface FakeSmtpOptions {
  user?: string;
  pass?: string;
  /** Refuse MAIL FROM before a successful AUTH (530), like a submission server. Default true. */
  authRequired?: boolean;
  /** Name in the 220 greeting and EHLO reply (default "fake-smtp.test"). */
  hostname?: string;
  /** Advertised SIZE limit in bytes; larger messages get 552 (default 10 MB). */
  maxMessageSize?: number;
  port?: number;
}

export interface ReceivedMail {
  /** SMTP envelope (MAIL FROM / RCPT TO), which is what delivery really used. */
  envelope: { from: string; to: string[] };
  /** The user that authenticated for this transaction (null without AUTH). */
  authUser: string | null;
  /** The From header as text ("TicketBridge <support@example.com>"). */
  from: string;
  /** Addresses of the From header. */
  fromAddress: string | undefined;
  /** Addresses of the To header. */
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  /** HTML body, or null when the message has none. */
  html: string | null;
  messageId: string | undefined;
  inReplyTo: string | undefined;
  /** References header split into message ids (empty when absent). */
  references: string[];
  /** Header values by lower-cased name, as they were written (unfolded); the first one wins. */
  headers: Record<string, string>;
  /** The full raw message as received. */
  raw: string;
  /** Everything mailparser found (attachments, dates, ...). */
  parsed: ParsedMail;
  receivedAt: number;
}

export interface SmtpAuthAttempt {
  method: string;
  username: string;
  ok: boolean;
  at: number;
}

export interface SmtpFailure {
  code: number;
  message: string;
  at: 'mail' | 'rcpt' | 'data';
}

interface Injection extends SmtpFailure {
  remaining: number;
}

interface StalledData {
  callback: (err?: Error | null, message?: string) => void;
}

class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((group) => group.value.flatMap((a) => (a.address ? [a.address] : (a.group ?? []).flatMap((g) => (g.address ? [g.address] : [])))));
}

export class FakeSmtp {
  readonly user: string;
  readonly pass: string;
  readonly host = '127.0.0.1';
  port = 0;
  url = '';

  /** Every accepted message, oldest first. */
  readonly messages: ReceivedMail[] = [];
  readonly authAttempts: SmtpAuthAttempt[] = [];
  /** Replies the fake refused transactions with (injected failures, auth, size). */
  readonly refusals: { code: number; message: string; at: string; time: number }[] = [];
  /** Errors smtp-server reported (clients vanishing mid-session and the like). */
  readonly errors: Error[] = [];
  /** TCP connections accepted so far (stalled ones included). */
  connectionCount = 0;

  private readonly smtp: SMTPServer;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly injections: Injection[] = [];
  private readonly stalledData: StalledData[] = [];
  private stalled: 'greeting' | 'data' | null = null;
  private listening = false;

  constructor(options: FakeSmtpOptions = {}) {
    this.user = options.user ?? 'mailer@ticketbridge.test';
    this.pass = options.pass ?? 'fake-smtp-password';
    this.port = options.port ?? 0;
    this.smtp = new SMTPServer({
      name: options.hostname ?? 'fake-smtp.test',
      banner: 'fake SMTP ready',
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !(options.authRequired ?? true),
      disableReverseLookup: true,
      size: options.maxMessageSize ?? 10 * 1024 * 1024,
      onAuth: (auth, _session, callback) => {
        const ok = (auth.method === 'PLAIN' || auth.method === 'LOGIN') && auth.username === this.user && auth.password === this.pass;
        this.authAttempts.push({ method: auth.method, username: auth.username ?? '', ok, at: Date.now() });
        if (ok) {
          callback(null, { user: auth.username });
          return;
        }
        this.refusals.push({ code: 535, message: 'Invalid username or password', at: 'auth', time: Date.now() });
        callback(new SmtpReply(535, 'Authentication credentials invalid'));
      },
      onMailFrom: (_address, _session, callback) => callback(this.takeFailure('mail')),
      onRcptTo: (_address, _session, callback) => callback(this.takeFailure('rcpt')),
      onData: (stream, session, callback) => void this.onData(stream, session, callback),
    });
    this.smtp.on('error', (error: Error) => this.errors.push(error));
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `smtp://${encodeURIComponent(this.user)}:${encodeURIComponent(this.pass)}@${this.host}:${this.port}`;
  }

  /** Stop listening and cut every open connection; ECONNREFUSED until up(). */
  async down(): Promise<void> {
    this.releaseStalledData(false);
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await this.waitFor(() => this.sockets.size === 0, 2000, 'connections to close');
  }

  /** Listen again on the same port. */
  async up(): Promise<void> {
    if (!this.listening) await this.listen();
  }

  async stop(): Promise<void> {
    this.stalled = null;
    await this.down();
  }

  /**
   * stall(true): new connections are accepted and get no greeting, ever (the client's greetingTimeout
   * fires). stall(true, 'data'): sessions run normally but the reply to the end of DATA never comes
   * (the client's socketTimeout fires); stalled messages are never stored. stall(false) ends it:
   * silent connections stay silent, clients still waiting after DATA get 451 (try again), so a
   * retry delivers exactly one copy.
   */
  stall(on: boolean, at: 'greeting' | 'data' = 'greeting'): void {
    this.stalled = on ? at : null;
    if (!on) this.releaseStalledData(true);
  }

  /**
   * The next `count` transactions are refused with `code` (4xx temporary, 5xx permanent), at the
   * end of DATA by default, or at MAIL FROM / RCPT TO (greylisting answers RCPT with 451).
   */
  failNext(count: number, code = 451, message = '4.7.1 Temporary failure, please try again later', at: SmtpFailure['at'] = 'data'): void {
    this.injections.push({ remaining: count, code, message, at });
  }

  /** Messages for one recipient (envelope). */
  messagesTo(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.envelope.to.some((to) => to.toLowerCase() === address.toLowerCase()));
  }

  /** Poll until fn returns a truthy value (returned), or reject after timeoutMs. */
  waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return pollUntil(fn, timeoutMs, `fake smtp: ${what}`);
  }

  /** Open TCP connections right now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  // -------------------------------------------------------------------------------------------

  private onConnection(socket: net.Socket): void {
    this.connectionCount++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.stalled === 'greeting') {
      socket.on('error', () => undefined);
      socket.resume(); // read and ignore whatever the client says
      return;
    }
    this.smtp.connect(socket);
  }

  private takeFailure(at: SmtpFailure['at']): SmtpReply | null {
    const injection = this.injections.find((i) => i.remaining > 0);
    if (!injection || injection.at !== at) return null;
    injection.remaining--;
    if (injection.remaining <= 0) this.injections.splice(this.injections.indexOf(injection), 1);
    this.refusals.push({ code: injection.code, message: injection.message, at, time: Date.now() });
    return new SmtpReply(injection.code, injection.message);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (error) {
      callback(error as Error);
      return;
    }
    const raw = Buffer.concat(chunks);
    if (stream.sizeExceeded) {
      this.refusals.push({ code: 552, message: 'message exceeds fixed maximum message size', at: 'data', time: Date.now() });
      callback(new SmtpReply(552, '5.3.4 Error: message exceeds fixed maximum message size'));
      return;
    }
    const failure = this.takeFailure('data');
    if (failure) {
      callback(failure);
      return;
    }
    if (this.stalled === 'data') {
      this.stalledData.push({ callback });
      return;
    }
    await this.accept(session, raw, callback);
  }

  private async accept(session: SMTPServerSession, raw: Buffer, callback: (err?: Error | null, message?: string) => void): Promise<void> {
    let parsed: ParsedMail;
    try {
      parsed = await simpleParser(raw);
    } catch (error) {
      callback(new SmtpReply(554, `5.6.0 Message could not be parsed: ${(error as Error).message}`));
      return;
    }
    const headers: Record<string, string> = {};
    for (const { key, line } of parsed.headerLines) {
      if (headers[key] !== undefined) continue;
      const colon = line.indexOf(':');
      headers[key] = line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    }
    const references = parsed.references === undefined ? [] : Array.isArray(parsed.references) ? parsed.references : parsed.references.split(/\s+/).filter(Boolean);
    const mailFrom = session.envelope.mailFrom;
    const user = session.user as unknown;
    this.messages.push({
      envelope: { from: mailFrom ? mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
      authUser: typeof user === 'string' ? user : null,
      from: parsed.from?.text ?? '',
      fromAddress: addresses(parsed.from)[0],
      to: addresses(parsed.to),
      cc: addresses(parsed.cc),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: parsed.html === false ? null : parsed.html,
      messageId: parsed.messageId,
      inReplyTo: parsed.inReplyTo,
      references,
      headers,
      raw: raw.toString('utf8'),
      parsed,
      receivedAt: Date.now(),
    });
    callback(null, `2.0.0 Ok: queued as FAKE${this.messages.length}`);
  }

  private releaseStalledData(answer: boolean): void {
    for (const item of this.stalledData.splice(0)) {
      if (answer) item.callback(new SmtpReply(451, '4.3.0 Took too long to process the message, please try again'));
    }
  }
}

export async function startFakeSmtp(options: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const fake = new FakeSmtp(options);
  await fake.listen();
  return fake;
}
