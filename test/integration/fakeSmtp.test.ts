// The fake SMTP server (support/fakes/smtp.ts) driven by the REAL nodemailer transport: if these pass, a
// mailer tested against the fake authenticates, threads, fails and times out like it would against a
// real submission server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { SendMailOptions } from 'nodemailer/lib/mailer';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
  rejected?: string[];
  timeoutType?: string;
}

async function rejectsWithSmtpError(promise: Promise<unknown>): Promise<SmtpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error as SmtpError;
  }
  assert.fail('expected sendMail to fail');
}

const mail = (subject: string): SendMailOptions => ({
  from: 'TicketBridge Support <support@ticketbridge.test>',
  to: 'player@example.com',
  subject,
  text: `${subject} (text)`,
});

describe('fake SMTP with the real nodemailer transport', () => {
  let fake: FakeSmtp;
  let transport: Mail;

  /** Short timeouts, as an outbox should use: a dead server costs a few hundred ms, not minutes. */
  const impatient = (): Mail =>
    nodemailer.createTransport({
      host: fake.host,
      port: fake.port,
      secure: false,
      auth: { user: fake.user, pass: fake.pass },
      connectionTimeout: 300,
      greetingTimeout: 300,
      socketTimeout: 300,
    });

  before(async () => {
    fake = await startFakeSmtp();
    transport = nodemailer.createTransport(fake.url);
  });

  after(async () => {
    transport.close();
    await fake.stop();
  });

  test('url is smtp://user:pass@127.0.0.1:PORT and plain SMTP with AUTH PLAIN works', async () => {
    assert.equal(fake.url, `smtp://${encodeURIComponent(fake.user)}:${encodeURIComponent(fake.pass)}@127.0.0.1:${fake.port}`);
    assert.equal(await transport.verify(), true);
    assert.deepEqual(fake.authAttempts.at(-1), { method: 'PLAIN', username: fake.user, ok: true, at: fake.authAttempts.at(-1)!.at });
  });

  test('text + HTML mail with threading headers arrives parsed', async () => {
    const info = (await transport.sendMail({
      from: 'TicketBridge Support <support@ticketbridge.test>',
      to: 'Alex <player@example.com>',
      cc: 'staff@ticketbridge.test',
      subject: 'Re: [#42] Mon épée a disparu ✓',
      text: 'A staff member replied:\n\nWe found it.',
      html: '<p>A staff member replied:</p><blockquote>We found it.</blockquote>',
      messageId: '<reply-7.ticket-42@ticketbridge.test>',
      inReplyTo: '<ticket-42@ticketbridge.test>',
      references: ['<ticket-42@ticketbridge.test>', '<reply-6.ticket-42@ticketbridge.test>'],
      headers: { 'X-Ticket-Id': '42', 'Auto-Submitted': 'auto-generated' },
    })) as { messageId: string; accepted: string[]; rejected: string[]; response: string };
    assert.deepEqual(info.accepted, ['player@example.com', 'staff@ticketbridge.test']);
    assert.deepEqual(info.rejected, []);
    assert.match(info.response, /^250 /);

    const received = fake.messages.at(-1)!;
    assert.deepEqual(received.envelope, { from: 'support@ticketbridge.test', to: ['player@example.com', 'staff@ticketbridge.test'] });
    assert.equal(received.authUser, fake.user);
    assert.equal(received.fromAddress, 'support@ticketbridge.test');
    assert.match(received.from, /TicketBridge Support/);
    assert.deepEqual(received.to, ['player@example.com']);
    assert.deepEqual(received.cc, ['staff@ticketbridge.test']);
    assert.equal(received.subject, 'Re: [#42] Mon épée a disparu ✓', 'non-ASCII subjects survive encoding');
    assert.equal(received.text.trim(), 'A staff member replied:\n\nWe found it.');
    assert.equal(received.html, '<p>A staff member replied:</p><blockquote>We found it.</blockquote>');
    assert.equal(received.messageId, '<reply-7.ticket-42@ticketbridge.test>');
    assert.equal(info.messageId, received.messageId);
    assert.equal(received.inReplyTo, '<ticket-42@ticketbridge.test>');
    assert.deepEqual(received.references, ['<ticket-42@ticketbridge.test>', '<reply-6.ticket-42@ticketbridge.test>']);
    assert.equal(received.headers['x-ticket-id'], '42');
    assert.equal(received.headers['auto-submitted'], 'auto-generated');
    assert.equal(received.headers['message-id'], '<reply-7.ticket-42@ticketbridge.test>');
    assert.ok(!('bcc' in received.headers));
    assert.equal(fake.messagesTo('staff@ticketbridge.test').at(-1), received);
  });

  test('a wrong password is refused with 535 (EAUTH), LOGIN works too, and no AUTH at all gets 530', async () => {
    const before = fake.messages.length;
    const wrong = nodemailer.createTransport({ host: fake.host, port: fake.port, auth: { user: fake.user, pass: 'not-the-password' } });
    const error = await rejectsWithSmtpError(wrong.sendMail(mail('wrong password')));
    assert.equal(error.code, 'EAUTH');
    assert.equal(error.responseCode, 535);
    assert.equal(error.command, 'AUTH PLAIN');
    assert.match(error.message, /^Invalid login: 535/);
    assert.equal(fake.messages.length, before);
    assert.equal(fake.authAttempts.at(-1)!.ok, false);

    const login = nodemailer.createTransport({ host: fake.host, port: fake.port, authMethod: 'LOGIN', auth: { user: fake.user, pass: fake.pass } });
    await login.sendMail(mail('via LOGIN'));
    assert.equal(fake.authAttempts.at(-1)!.method, 'LOGIN');
    assert.equal(fake.messages.at(-1)!.subject, 'via LOGIN');

    const anonymous = nodemailer.createTransport({ host: fake.host, port: fake.port });
    const refused = await rejectsWithSmtpError(anonymous.sendMail(mail('no auth')));
    assert.equal(refused.responseCode, 530);
    assert.equal(refused.code, 'EENVELOPE');
    assert.ok(!fake.messages.some((m) => m.subject === 'no auth'));
  });

  test('failNext gives nodemailer a 451 (retry later); 5xx is permanent; the next send goes through', async () => {
    fake.failNext(1);
    const temporary = await rejectsWithSmtpError(transport.sendMail(mail('greylisted')));
    assert.equal(temporary.responseCode, 451);
    assert.equal(temporary.code, 'EMESSAGE');
    assert.equal(temporary.command, 'DATA');
    assert.match(temporary.message, /451 4\.7\.1/);
    assert.ok(!fake.messages.some((m) => m.subject === 'greylisted'));

    await transport.sendMail(mail('greylisted'));
    assert.equal(fake.messages.filter((m) => m.subject === 'greylisted').length, 1, 'the retry is delivered once');

    fake.failNext(1, 451, '4.7.1 Greylisted, come back in 5 minutes', 'rcpt');
    const atRcpt = await rejectsWithSmtpError(transport.sendMail(mail('greylisted at RCPT')));
    assert.equal(atRcpt.responseCode, 451);
    assert.equal(atRcpt.code, 'EENVELOPE');
    assert.deepEqual(atRcpt.rejected, ['player@example.com']);

    fake.failNext(1, 550, '5.1.1 Mailbox does not exist', 'rcpt');
    const permanent = await rejectsWithSmtpError(transport.sendMail(mail('unknown user')));
    assert.equal(permanent.responseCode, 550);
    assert.ok(fake.refusals.some((r) => r.code === 550 && r.at === 'rcpt'));
  });

  test('a stalled server (no greeting) makes sendMail time out after greetingTimeout instead of hanging', async () => {
    fake.stall(true);
    const slow = impatient();
    const connectionsBefore = fake.connectionCount;
    const started = Date.now();
    const error = await rejectsWithSmtpError(slow.sendMail(mail('never greeted')));
    const took = Date.now() - started;
    assert.equal(error.code, 'ETIMEDOUT');
    assert.equal(error.timeoutType, 'GREETING_TIMEOUT');
    assert.match(error.message, /Greeting never received/);
    assert.ok(took >= 250 && took < 1500, `gave up after ${took} ms`);
    assert.equal(fake.connectionCount, connectionsBefore + 1, 'the TCP connection was accepted, just never answered');
    fake.stall(false);
    await slow.sendMail(mail('greeted again'));
    assert.equal(fake.messages.at(-1)!.subject, 'greeted again');
  });

  test('a server that never answers the end of DATA trips socketTimeout; nothing is stored, a retry delivers once', async () => {
    fake.stall(true, 'data');
    const slow = impatient();
    const started = Date.now();
    const error = await rejectsWithSmtpError(slow.sendMail(mail('stuck after DATA')));
    assert.equal(error.code, 'ETIMEDOUT');
    assert.equal(error.timeoutType, 'SOCKET_TIMEOUT');
    assert.ok(Date.now() - started < 1500);
    assert.ok(!fake.messages.some((m) => m.subject === 'stuck after DATA'));
    fake.stall(false);
    await slow.sendMail(mail('stuck after DATA'));
    assert.equal(fake.messages.filter((m) => m.subject === 'stuck after DATA').length, 1);
  });

  test('down() refuses connections (ESOCKET/ECONNREFUSED); up() listens again on the same port', async () => {
    const port = fake.port;
    await fake.down();
    const error = await rejectsWithSmtpError(transport.sendMail(mail('while down')));
    assert.equal(error.code, 'ESOCKET');
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal(error.command, 'CONN');

    await fake.up();
    assert.equal(fake.port, port);
    await transport.sendMail(mail('after the outage'));
    assert.equal(fake.messages.at(-1)!.subject, 'after the outage');
    assert.ok(!fake.messages.some((m) => m.subject === 'while down'));
  });
});
