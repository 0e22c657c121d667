// The staff console: the queue, working a ticket, and what the player sees of it.
import assert from 'node:assert/strict';
import { postContent } from '../../src/discord/format.js';
import { readDiscordWork } from '../../src/tickets/discordWork.js';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { prepared } from '../../src/db/index.js';
import { pendingDiscordWork, pendingWhispers } from '../../src/db/outboxes.js';
import { ticketById, updateTicketStatus } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import type { Priority, Status } from '../../src/tickets/model.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { addUser, Client, csrfFrom, listedTickets, startApp, waitingBadge, type TestApp } from '../helpers/app.js';

let app: TestApp;
let player: User;
let staffUser: User;
let otherStaff: User;
let playerClient: Client;
let staffClient: Client;

before(async () => {
  app = await startApp();
  player = await addUser(app.db, 'player');
  await addUser(app.db, 'other_player');
  staffUser = await addUser(app.db, 'sam', 'correct horse battery', 'staff');
  otherStaff = await addUser(app.db, 'tess', 'correct horse battery', 'staff');
  playerClient = new Client(app.url);
  await playerClient.login('player');
  staffClient = new Client(app.url);
  await staffClient.login('sam');
});
after(() => app.close());

function makeTicket(subject: string, options: { user?: User; status?: Status; priority?: Priority; at?: number } = {}): number {
  const at = options.at ?? Date.now();
  const id = createWebTicket(app.db, { user: options.user ?? player, subject, body: `Body of ${subject}`, priority: options.priority ?? 'normal', uploads: [] }, { ip: null }, at);
  if (options.status && options.status !== 'open') updateTicketStatus(app.db, id, options.status, at);
  return id;
}

let nextCharId = 150001;
/** A game ticket; with `guildId`, one opened while the Discord bridge was configured (it has a channel). */
function makeGameTicket(subject: string, name = 'Hero Name', guildId: string | null = null): number {
  const now = Date.now();
  const charId = nextCharId++;
  const { lastInsertRowid } = prepared(
    app.db,
    `INSERT INTO tickets (source, subject, status, priority, message_count, game_account_id, game_char_id, game_char_name, discord_guild_id, created_at, updated_at)
     VALUES ('game', ?, 'open', 'normal', 1, 2000001, ?, ?, ?, ?, ?)`,
  ).run(subject, charId, name, guildId, now, now);
  const id = Number(lastInsertRowid);
  prepared(app.db, "INSERT INTO messages (ticket_id, author_kind, author_name, origin, body, created_at) VALUES (?, 'player', ?, 'game', ?, ?)").run(id, name, subject, now);
  return id;
}

async function csrf(client: Client, path = '/index.php?view=tickets'): Promise<string> {
  return csrfFrom((await client.get(path)).text)!;
}

async function staffPost(id: number, action: string, fields: Record<string, string>) {
  const _csrf = await csrf(staffClient, `/index.php?view=ticket&id=${id}`);
  return staffClient.post(`/index.php?view=ticket&id=${id}&action=${action}`, { _csrf, ...fields });
}

describe('the queue', () => {
  let ids: Record<'urgentOld' | 'lowNew' | 'mine' | 'game' | 'closed', number>;

  before(() => {
    const base = Date.UTC(2025, 5, 1);
    ids = {
      urgentOld: makeTicket('Urgent but old', { priority: 'urgent', at: base }),
      lowNew: makeTicket('Low and new', { priority: 'low', at: base + 3_600_000, status: 'answered' }),
      mine: makeTicket('Assigned to sam', { at: base + 1_800_000, status: 'in_progress' }),
      game: makeGameTicket('Stuck in a wall'),
      closed: makeTicket('Finished', { status: 'closed', at: base }),
    };
    prepared(app.db, 'UPDATE tickets SET assignee_id = ? WHERE id = ?').run(staffUser.id, ids.mine);
  });

  test('staff see every ticket with User, Source and Assignee columns; players see only theirs', async () => {
    const page = await staffClient.get('/index.php?view=tickets');
    const headers = [...page.text.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]);
    assert.deepEqual(headers, ['#', 'Subject', 'Status', 'Priority', 'Messages', 'Created', 'Updated', 'User', 'Source', 'Assignee']);
    const rows = listedTickets(page.text).map((r) => r.id);
    for (const id of [ids.urgentOld, ids.lowNew, ids.mine, ids.game]) assert.ok(rows.includes(id), `ticket ${id} listed`);
    assert.ok(!rows.includes(ids.closed), 'closed hidden by default, as for players');
    assert.match(page.text, new RegExp(`data-ticket-id="${ids.game}"[\\s\\S]*?Hero Name \\(game\\)[\\s\\S]*?source-game`));
    assert.match(page.text, new RegExp(`data-ticket-id="${ids.mine}"[\\s\\S]*?data-label="Assignee">sam<`));

    const other = new Client(app.url);
    await other.login('other_player');
    const theirs = await other.get('/index.php?view=tickets');
    assert.deepEqual(listedTickets(theirs.text), []);
    assert.doesNotMatch(theirs.text, /<th scope="col">Assignee/);
  });

  test('filters: priority, source, assignee (mine, unassigned, someone), owner', async () => {
    const ids_ = async (query: string) => listedTickets((await staffClient.get(`/index.php?view=tickets&${query}`)).text).map((r) => r.id);
    assert.deepEqual(await ids_('priority=urgent'), [ids.urgentOld]);
    assert.deepEqual(await ids_('source=game'), [ids.game]);
    assert.deepEqual(await ids_('assignee=mine'), [ids.mine]);
    assert.deepEqual(await ids_(`assignee=${staffUser.id}`), [ids.mine]);
    assert.deepEqual(await ids_(`assignee=${otherStaff.id}`), []);
    assert.ok(!(await ids_('assignee=unassigned')).includes(ids.mine));
    assert.ok((await ids_('owner=player')).includes(ids.urgentOld));
    assert.ok(!(await ids_('owner=player')).includes(ids.game));
    assert.deepEqual(await ids_('owner=nobody_by_that_name'), []);
    for (const bad of ['priority=extreme', 'source=email', 'assignee=someone', 'sort=random']) {
      assert.equal((await staffClient.get(`/index.php?view=tickets&${bad}`)).status, 400, bad);
    }
  });

  test('sort by updated (default), created or priority', async () => {
    const order = async (sort: string) =>
      listedTickets((await staffClient.get(`/index.php?view=tickets&owner=player&sort=${sort}`)).text)
        .map((r) => r.id)
        .filter((id) => [ids.urgentOld, ids.lowNew, ids.mine].includes(id));
    assert.deepEqual(await order(''), [ids.lowNew, ids.mine, ids.urgentOld]);
    assert.deepEqual(await order('created'), [ids.lowNew, ids.mine, ids.urgentOld]);
    assert.deepEqual(await order('priority'), [ids.urgentOld, ids.mine, ids.lowNew]);
    assert.match((await staffClient.get('/index.php?view=tickets&sort=priority')).text, /<option value="priority" selected>Priority<\/option>/);
  });

  test('the staff sidebar counts tickets waiting for Support (open + answered)', async () => {
    const expected = (prepared(app.db, "SELECT COUNT(*) AS n FROM tickets WHERE status IN ('open', 'answered')").get() as { n: number }).n;
    const page = await staffClient.get('/index.php?view=tickets');
    assert.match(page.text, new RegExp(`data-support-count="${expected}"`));
    assert.ok(expected >= 3);
    assert.doesNotMatch((await playerClient.get('/index.php?view=tickets')).text, /data-support-count/);
  });
});

describe('working a ticket', () => {
  test('reply as Support with waiting_user: the player sees it at once and gets the badge; their reply makes it answered', async () => {
    const id = makeTicket('Need a hand');
    const before = waitingBadge((await playerClient.get('/index.php?view=tickets')).text)!;
    const _csrf = await csrf(staffClient, `/index.php?view=ticket&id=${id}`);
    const reply = await staffClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'Which server are you on?', status: 'waiting_user' });
    assert.equal(reply.status, 303);
    assert.equal(ticketById(app.db, id)!.status, 'waiting_user');

    const page = await playerClient.get(`/index.php?view=ticket&id=${id}`);
    assert.match(page.text, /<li class="message message-staff" id="message-\d+">[\s\S]*?<strong class="author" dir="auto">sam<\/strong>[\s\S]*?>Support<\/span>[\s\S]*?Which server are you on\?/);
    assert.match(page.text, /Status changed from Open to Waiting for you by sam\./, 'status changes are system lines, in the reader’s words');
    assert.equal(waitingBadge(page.text), before + 1);

    const playerCsrf = csrfFrom(page.text)!;
    await playerClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf: playerCsrf, message: 'Server 2' });
    assert.equal(ticketById(app.db, id)!.status, 'answered');
    assert.equal(waitingBadge((await playerClient.get('/index.php?view=tickets')).text), before);
    assert.ok(recentAuditRows(app.db, 20).some((r) => r.action === 'ticket.reply' && r.ticketId === id && r.actorName === 'sam'));
  });

  test('the reply status defaults to answered; in_progress is allowed; anything else is refused', async () => {
    const id = makeTicket('Defaults');
    const _csrf = await csrf(staffClient, `/index.php?view=ticket&id=${id}`);
    await staffClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'On it' });
    assert.equal(ticketById(app.db, id)!.status, 'answered');
    await staffClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'Still on it', status: 'in_progress' });
    assert.equal(ticketById(app.db, id)!.status, 'in_progress');
    const bad = await staffClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'x', status: 'closed' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="reply-status-error">Choose one of the statuses in the list\.</);
    assert.equal(ticketById(app.db, id)!.messageCount, 3);
  });

  test('status, priority and assignee change with audit rows; close and reopen', async () => {
    const id = makeTicket('Move it along');
    assert.equal((await staffPost(id, 'status', { status: 'in_progress' })).status, 303);
    assert.equal(ticketById(app.db, id)!.status, 'in_progress');
    assert.equal((await staffPost(id, 'priority', { priority: 'high' })).status, 303);
    assert.equal(ticketById(app.db, id)!.priority, 'high');
    assert.equal((await staffPost(id, 'assign', { assignee: String(otherStaff.id) })).status, 303);
    assert.equal(ticketById(app.db, id)!.assigneeId, otherStaff.id);
    assert.equal((await staffPost(id, 'assign', { assignee: 'me' })).status, 303);
    assert.equal(ticketById(app.db, id)!.assigneeId, staffUser.id);
    assert.equal((await staffPost(id, 'assign', { assignee: '' })).status, 303);
    assert.equal(ticketById(app.db, id)!.assigneeId, null);

    assert.equal((await staffPost(id, 'close', {})).status, 303);
    assert.equal(ticketById(app.db, id)!.status, 'closed');
    const closedPage = await staffClient.get(`/index.php?view=ticket&id=${id}`);
    assert.match(closedPage.text, />Reopen<\/button>/);
    assert.equal((await staffPost(id, 'status', { status: 'open' })).status, 303);
    assert.equal(ticketById(app.db, id)!.status, 'open');
    assert.equal(ticketById(app.db, id)!.closedAt, null);

    const actions = recentAuditRows(app.db, 30).filter((r) => r.ticketId === id).map((r) => r.action);
    for (const action of ['ticket.status', 'ticket.priority', 'ticket.assign', 'ticket.close']) assert.ok(actions.includes(action), action);
    const playerView = await playerClient.get(`/index.php?view=ticket&id=${id}`);
    assert.match(playerView.text, /Priority changed from Normal to High by sam\./);
  });

  test('tickets are assigned to active staff only', async () => {
    const id = makeTicket('Assign rules');
    for (const assignee of [String(player.id), '999999', 'everyone']) {
      const reply = await staffPost(id, 'assign', { assignee });
      assert.ok(reply.status === 422, `${assignee}: ${reply.status}`);
    }
    assert.equal(ticketById(app.db, id)!.assigneeId, null);
  });

  test('internal notes: staff see them; the player’s page, list count and search never do', async () => {
    const id = makeTicket('Note target');
    const reply = await staffPost(id, 'note', { note: 'Suspect: gold duplication exploit pineapple' });
    assert.equal(reply.status, 303);
    const staffPage = await staffClient.get(`/index.php?view=ticket&id=${id}`);
    assert.match(staffPage.text, /message-internal[\s\S]*?Internal note[\s\S]*?pineapple/);
    const playerPage = await playerClient.get(`/index.php?view=ticket&id=${id}`);
    assert.doesNotMatch(playerPage.text, /pineapple|Internal note/);
    assert.equal(ticketById(app.db, id)!.messageCount, 1, 'notes are not messages of the conversation');
    const search = await playerClient.get('/index.php?view=tickets&q=pineapple');
    assert.deepEqual(listedTickets(search.text), []);
    const staffSearch = await staffClient.get('/index.php?view=tickets&q=pineapple');
    assert.deepEqual(listedTickets(staffSearch.text).map((r) => r.id), [id]);
    assert.ok(recentAuditRows(app.db, 10).some((r) => r.action === 'ticket.note' && r.ticketId === id));
    const empty = await staffPost(id, 'note', { note: '   ' });
    assert.equal(empty.status, 422);
  });

  test('a web reply to a game ticket is queued as whispers (split to GAME_WHISPER_MAX) and for Discord when bridged', async () => {
    const id = makeGameTicket('Lost my pet', 'Pet Lover');
    const long = `${'word '.repeat(60)}end.`;
    const _csrf = await csrf(staffClient, `/index.php?view=ticket&id=${id}`);
    const page = await staffClient.get(`/index.php?view=ticket&id=${id}`);
    assert.match(page.text, /The player also gets this whispered in game/);
    assert.match(page.text, /game character <strong dir="auto">Pet Lover<\/strong> \(account 2000001, character \d+\)/);
    await staffClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: long });
    const whispers = pendingWhispers(app.db, id);
    assert.equal(whispers.length, 2);
    assert.ok(whispers.every((w) => [...w.text].length <= app.config.game.whisperMax && w.sender === 'sam' && w.charName === 'Pet Lover' && w.accountId === 2000001));
    assert.equal(whispers.map((w) => w.text).join(' '), long.trim());
    assert.deepEqual(pendingDiscordWork(app.db, id), [], 'the bridge is not configured here: nothing queued for Discord');

    const bridged = await startApp({ dir: app.dir, db: app.db, env: { DISCORD_TOKEN: 'x'.repeat(50), DISCORD_GUILD_ID: '123456789012345678' } });
    try {
      // A ticket opened while Discord was configured has a channel: the answer is posted there too.
      const withChannel = makeGameTicket('Lost my pet again', 'Pet Lover', '123456789012345678');
      const c = new Client(bridged.url);
      await c.login('sam');
      const token = csrfFrom((await c.get(`/index.php?view=ticket&id=${withChannel}`)).text)!;
      await c.postMultipart(`/index.php?view=ticket&id=${withChannel}&action=reply`, { _csrf: token, message: 'Found it!' });
      const work = pendingDiscordWork(app.db, withChannel);
      assert.equal(work.length, 1);
      const read = readDiscordWork(work[0]!);
      assert.ok(read.ok && read.work.kind === 'post_message');
      assert.equal(postContent(read.work.payload), 'sam (web): Found it!');
    } finally {
      await bridged.close();
    }
  });

  test('internal notes are never whispered', async () => {
    const id = makeGameTicket('Note on game ticket', 'Quiet One');
    await staffPost(id, 'note', { note: 'do not whisper this' });
    assert.deepEqual(pendingWhispers(app.db, id), []);
  });
});

describe('roles are enforced on the server', () => {
  test('a player posting a staff action gets 403 and nothing changes', async () => {
    const id = makeTicket('Player tries staff actions');
    const before = ticketById(app.db, id);
    const _csrf = await csrf(playerClient, `/index.php?view=ticket&id=${id}`);
    for (const [action, fields] of [
      ['status', { status: 'closed' }],
      ['priority', { priority: 'urgent' }],
      ['assign', { assignee: 'me' }],
      ['note', { note: 'sneaky' }],
    ] as const) {
      const reply = await playerClient.post(`/index.php?view=ticket&id=${id}&action=${action}`, { _csrf, ...fields });
      assert.equal(reply.status, 403, action);
    }
    assert.deepEqual(ticketById(app.db, id), before);
    assert.equal((prepared(app.db, 'SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ?').get(id) as { n: number }).n, 1);
  });

  test('a player cannot choose a status with their reply', async () => {
    const id = makeTicket('Player picks status');
    const _csrf = await csrf(playerClient, `/index.php?view=ticket&id=${id}`);
    const reply = await playerClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'hi', status: 'closed' });
    assert.equal(reply.status, 400);
    assert.equal(ticketById(app.db, id)!.status, 'open');
  });

  test('the player does not see staff controls or staff filters', async () => {
    const id = makeTicket('Plain view');
    const page = await playerClient.get(`/index.php?view=ticket&id=${id}`);
    assert.doesNotMatch(page.text, /action=status|action=assign|action=note|Internal note/);
    const list = await playerClient.get('/index.php?view=tickets&assignee=mine&priority=urgent');
    assert.equal(list.status, 200, 'staff-only filters are ignored for players');
    assert.doesNotMatch(list.text, /filter-assignee/);
  });

  test('staff actions need the CSRF token', async () => {
    const id = makeTicket('CSRF staff');
    const reply = await staffClient.post(`/index.php?view=ticket&id=${id}&action=status`, { status: 'closed' });
    assert.equal(reply.status, 403);
    assert.equal(ticketById(app.db, id)!.status, 'open');
  });
});
