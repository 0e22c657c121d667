// Issue #15 point 2: saved replies. Admins keep them on view=snippets (one audit row a change,
// 422 with the field marked for what the rules refuse; players and staff get 403); staff find them
// on a ticket's reply form already filled for that ticket, and answer with them from Discord with
// /ticket reply, stored, whispered and notified like a staff message in the channel. Against the
// real app and the real bridge with the fake Discord (support/fakes/discord.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/audit.js';
import { prepared } from '../../src/db/index.js';
import { notificationsForTicket } from '../../src/db/notifications.js';
import { pendingWhispers } from '../../src/db/outboxes.js';
import { snippetByName, snippets } from '../../src/db/snippets.js';
import { ticketById } from '../../src/db/tickets.js';
import { userByUsername } from '../../src/db/users.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { createSnippet, fillSnippet } from '../../src/tickets/snippets.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { addMailedPlayer, addUser, Client } from '../helpers/app.js';
import { gameServer, startBridged, type BridgedSetup } from '../helpers/bridge.js';

const EPHEMERAL = 64;
const ACCOUNT = 2_001_500;
let setup: BridgedSetup;
let game: ReturnType<typeof gameServer>;
const clients = {} as Record<'admin' | 'staff' | 'player', Client>;
const tokens = {} as Record<'admin' | 'staff' | 'player', string>;
let nextChar = 190_001;

before(async () => {
  setup = await startBridged({ env: { SMTP_URL: 'smtp://127.0.0.1:2525' } });
  game = gameServer(setup.app.url);
  saveNotificationSwitches(setup.app.db, { email: true, telegram: false });
  await addMailedPlayer(setup.app.db, 'snip_player', 'player@example.org', ACCOUNT);
  await addUser(setup.app.db, 'snip_staff', 'correct horse battery', 'staff');
  await addUser(setup.app.db, 'snip_admin', 'correct horse battery', 'admin');
  for (const who of ['admin', 'staff', 'player'] as const) {
    clients[who] = new Client(setup.app.url);
    assert.equal((await clients[who].login(`snip_${who}`)).status, 303);
    tokens[who] = await clients[who].csrf('/index.php?view=settings');
  }
});
after(() => setup.close());

function auditRows(action: string): { actor: string; details: Record<string, unknown> }[] {
  const rows = prepared(setup.app.db, 'SELECT actor_name AS actor, details FROM audit_log WHERE action = ? ORDER BY id').all(action) as { actor: string; details: string }[];
  return rows.map((r) => ({ actor: r.actor, details: JSON.parse(r.details) as Record<string, unknown> }));
}

function post(action: string, form: Record<string, string>, who: 'admin' | 'staff' | 'player' = 'admin') {
  return clients[who].post(`/index.php?view=snippets&action=${action}`, { _csrf: tokens[who], ...form });
}

function unescape(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#\d+|\w+);/g, (entity, code: string) => (code.startsWith('#') ? String.fromCodePoint(Number(code.slice(1))) : (named[code] ?? entity)));
}

/** The saved-reply picker of a ticket page: name -> the filled text in data-text. */
function picker(html: string): Record<string, string> {
  const select = /<select id="saved-reply"[\s\S]*?<\/select>/.exec(html)?.[0] ?? '';
  return Object.fromEntries([...select.matchAll(/<option value="\d+" data-text="([^"]*)">([^<]*)<\/option>/g)].map((m) => [unescape(m[2]!), unescape(m[1]!)]));
}

async function gameTicket(name: string): Promise<{ ticketId: number; channelId: string }> {
  const { json } = await game.ticket({ account_id: ACCOUNT, char_id: nextChar++, name }, 'pm', 'help me');
  const ticketId = json.ticket_id as number;
  const channelId = await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId, 5000, 'the ticket channel');
  return { ticketId, channelId };
}

describe('the admin page', () => {
  test('admins create, edit and delete saved replies; each change writes one audit row', async () => {
    assert.equal((await clients.admin.get('/index.php?view=snippets')).status, 200);
    const created = await post('create', { name: '  Refund policy ', body: 'Hi {player},\r\nrefunds take 3 days.' });
    assert.equal(created.status, 303);
    assert.match(created.location ?? '', /view=snippets$/);
    const snippet = snippetByName(setup.app.db, 'REFUND POLICY')!;
    assert.equal(snippet.name, 'Refund policy');
    assert.equal(snippet.body, 'Hi {player},\nrefunds take 3 days.');
    assert.match((await clients.admin.get('/index.php?view=snippets')).text, /Saved reply &#34;Refund policy&#34; created\.|Saved reply "Refund policy" created\./);
    assert.deepEqual(auditRows('snippet.create').at(-1), { actor: 'snip_admin', details: { snippetId: snippet.id, name: 'Refund policy' } });

    const updated = await post('update', { snippet_id: String(snippet.id), name: 'Refunds', body: 'Refunds take 3 days, {player}.' });
    assert.equal(updated.status, 303);
    assert.equal(snippetByName(setup.app.db, 'refunds')!.body, 'Refunds take 3 days, {player}.');
    assert.deepEqual(auditRows('snippet.update').at(-1), { actor: 'snip_admin', details: { snippetId: snippet.id, name: { from: 'Refund policy', to: 'Refunds' }, bodyChanged: true } });

    assert.equal((await post('delete', { snippet_id: String(snippet.id) })).status, 303);
    assert.equal(snippetByName(setup.app.db, 'Refunds'), undefined);
    assert.deepEqual(auditRows('snippet.delete').at(-1), { actor: 'snip_admin', details: { snippetId: snippet.id, name: 'Refunds' } });
    assert.equal((await post('delete', { snippet_id: String(snippet.id) })).status, 404, 'an unknown id');
  });

  test('what the rules refuse is a 422 with the field marked, and nothing is stored', async () => {
    createSnippet(setup.app.db, { name: 'Taken', body: 'x' }, { actor: SYSTEM_ACTOR, ip: null });
    const before = { count: snippets(setup.app.db).length, audit: auditRows('snippet.create').length };
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ name: '', body: 'text' }, 'name', /Name is required/],
      [{ name: 'x'.repeat(65), body: 'text' }, 'name', /Name must be at most 64 characters/],
      [{ name: 'two\nlines', body: 'text' }, 'name', /Name must be one line/],
      [{ name: 'Empty', body: '   ' }, 'body', /Text is required/],
      [{ name: 'Long', body: 'y'.repeat(4001) }, 'body', /Text must be at most 4,000 characters/],
      [{ name: 'taken', body: 'text' }, 'name', /already exists/],
    ];
    for (const [form, field, message] of cases) {
      const reply = await post('create', form);
      assert.equal(reply.status, 422, JSON.stringify(form).slice(0, 80));
      assert.match(reply.text, message);
      assert.match(reply.text, new RegExp(`id="new-${field}-error"`));
    }
    const other = createSnippet(setup.app.db, { name: 'Other', body: 'x' }, { actor: SYSTEM_ACTOR, ip: null });
    const clash = await post('update', { snippet_id: String(other), name: 'TAKEN', body: 'x' });
    assert.equal(clash.status, 422);
    assert.match(clash.text, new RegExp(`id="snippet-${other}-name-error"[^>]*>A saved reply named`));
    assert.equal(snippets(setup.app.db).length, before.count + 1);
    assert.equal(auditRows('snippet.create').length, before.audit + 1, 'only the fixture was audited');
    assert.equal(auditRows('snippet.update').filter((r) => r.details.snippetId === other).length, 0);
  });

  test('players and staff get 403 on the page and its actions; only admins see the menu item', async () => {
    for (const who of ['player', 'staff'] as const) {
      assert.equal((await clients[who].get('/index.php?view=snippets')).status, 403);
      assert.equal((await post('create', { name: `by ${who}`, body: 'x' }, who)).status, 403);
      assert.equal(snippetByName(setup.app.db, `by ${who}`), undefined);
      assert.doesNotMatch((await clients[who].get('/index.php?view=tickets')).text, /view=snippets/);
    }
    assert.match((await clients.admin.get('/index.php?view=tickets')).text, /href="\/index\.php\?view=snippets"/);
  });
});

describe('placeholders', () => {
  test('fillSnippet replaces the three placeholders literally and leaves others as typed', () => {
    assert.equal(fillSnippet('{player} {staff} {ticket} {x} {Player} $& $1', { player: 'A$&B', staff: "$'", ticket: '#7' }), "A$&B $' #7 {x} {Player} $& $1");
  });

  test('a web ticket: {player} is the owner, {staff} the staff member, {ticket} its number; the player sees no picker', async () => {
    createSnippet(setup.app.db, { name: 'Web greeting', body: 'Hi {player}, {staff} on {ticket}: costs $& and {other}.' }, { actor: SYSTEM_ACTOR, ip: null });
    const player = userByUsername(setup.app.db, 'snip_player')!;
    const id = createWebTicket(setup.app.db, { user: player, subject: 'Web question', body: 'Help', priority: 'normal', uploads: [] }, { ip: null });
    const page = await clients.staff.get(`/index.php?view=ticket&id=${id}`);
    assert.equal(picker(page.text)['Web greeting'], `Hi snip_player, snip_staff on #${id}: costs $& and {other}.`);
    const own = await clients.player.get(`/index.php?view=ticket&id=${id}`);
    assert.equal(own.status, 200);
    assert.doesNotMatch(own.text, /saved-reply|Web greeting/);
  });

  test('a game ticket: {player} is the character, and a "$&" in its name stays literal', async () => {
    createSnippet(setup.app.db, { name: 'Game greeting', body: 'Hello {player} ({ticket})' }, { actor: SYSTEM_ACTOR, ip: null });
    const { ticketId } = await gameTicket('Hero$&');
    const page = await clients.staff.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.equal(picker(page.text)['Game greeting'], `Hello Hero$& (#${ticketId})`);
  });
});

describe('/ticket reply', () => {
  test('posts the filled text under the bot, stores, whispers and notifies it like a staff answer', async () => {
    createSnippet(setup.app.db, { name: 'Looking into it', body: 'Hi {player}, {staff} is looking into {ticket}. $& {x}' }, { actor: SYSTEM_ACTOR, ip: null });
    const { ticketId, channelId } = await gameTicket('Replied Hero');
    const interaction = setup.fake.slashCommand({ channelId, userId: setup.staffId, command: 'ticket reply', options: { snippet: 'looking into it' } });
    const response = await setup.fake.waitFor(() => interaction.responses[0], 5000, 'the answer');
    assert.ok((Number(response.data.flags ?? 0) & EPHEMERAL) !== 0, 'ephemeral');
    assert.match(String(response.data.content), /Sent the saved reply "Looking into it"/);
    const text = `Hi Replied Hero, GM Sam is looking into #${ticketId}. $& {x}`;
    const posted = await setup.fake.waitFor(() => setup.fake.messagesIn(channelId).find((m) => m.source === 'bot' && m.content.includes('(saved reply)')), 5000, 'the post');
    assert.equal(posted.content, `**GM Sam** (saved reply): ${text}`);
    const rows = prepared(setup.app.db, "SELECT body, author_name AS author, origin, internal, discord_message_id AS discordId FROM messages WHERE ticket_id = ? AND author_kind = 'staff'").all(ticketId);
    assert.deepEqual(rows, [{ body: text, author: 'GM Sam', origin: 'discord', internal: 0, discordId: interaction.id }]);
    const whispers = pendingWhispers(setup.app.db, ticketId);
    assert.ok(whispers.length > 0 && whispers.every((w) => w.charName === 'Replied Hero'), 'whispered to the character');
    assert.match(whispers.map((w) => w.text).join(' '), /Hi Replied Hero, GM Sam is looking into/);
    assert.deepEqual(notificationsForTicket(setup.app.db, ticketId).map((n) => n.event), ['support_reply']);
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'answered');
    // The bot's own post is not relayed back as another answer.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((prepared(setup.app.db, "SELECT count(*) AS n FROM messages WHERE ticket_id = ? AND author_kind = 'staff'").get(ticketId) as { n: number }).n, 1);
  });

  test('autocomplete offers the names containing what was typed, at most 25', async () => {
    for (let i = 0; i < 30; i += 1) createSnippet(setup.app.db, { name: `Bulk answer ${String(i).padStart(2, '0')}`, body: 'x' }, { actor: SYSTEM_ACTOR, ip: null });
    createSnippet(setup.app.db, { name: '100%_done', body: 'x' }, { actor: SYSTEM_ACTOR, ip: null });
    const { channelId } = await gameTicket('Autocompleted');
    const choices = async (typed: string, userId = setup.staffId) => {
      const interaction = setup.fake.autocomplete({ channelId, userId, command: 'ticket reply', focused: 'snippet', options: { snippet: typed } });
      const response = await setup.fake.waitFor(() => interaction.responses[0], 5000, 'the choices');
      assert.equal(response.type, 8);
      return (response.data.choices as { name: string; value: string }[]).map((c) => c.name);
    };
    assert.deepEqual(await choices('game GREET'), ['Game greeting']);
    const bulk = await choices('bulk');
    assert.equal(bulk.length, 25);
    assert.equal(bulk[0], 'Bulk answer 00');
    assert.deepEqual(await choices('%_'), ['100%_done'], 'LIKE wildcards are taken literally');
    setup.fake.addMember('400000000000000999', 'Not Staff');
    assert.deepEqual(await choices('bulk', '400000000000000999'), [], 'no choices for members who are not staff');
  });

  test('an unknown name is refused ephemerally and nothing is stored', async () => {
    const { ticketId, channelId } = await gameTicket('Refused Hero');
    const interaction = setup.fake.slashCommand({ channelId, userId: setup.staffId, command: 'ticket reply', options: { snippet: 'no such reply' } });
    const response = await setup.fake.waitFor(() => interaction.responses[0], 5000, 'the refusal');
    assert.ok((Number(response.data.flags ?? 0) & EPHEMERAL) !== 0);
    assert.match(String(response.data.content), /There is no saved reply named "no such reply"/);
    assert.equal((prepared(setup.app.db, "SELECT count(*) AS n FROM messages WHERE ticket_id = ? AND author_kind = 'staff'").get(ticketId) as { n: number }).n, 0);
    assert.deepEqual(pendingWhispers(setup.app.db, ticketId), []);
    assert.deepEqual(notificationsForTicket(setup.app.db, ticketId), []);
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'open');
  });
});
