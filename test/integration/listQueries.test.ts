// The list and search queries that must stay fast at a million tickets (issue #7): the two ways a
// search runs give the same answers, counts stop at a cap, and every statement the app prepares
// uses an index (EXPLAIN QUERY PLAN), so a missing index fails here rather than in a benchmark.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared, preparedSql } from '../../src/db/index.js';
import { countTickets, listTickets, planSearch, type TicketListQuery } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import { addInternalNote, createWebTicket, replyAsStaff, setTicketStatus, ticketListPage } from '../../src/tickets/service.js';
import { parseSearch } from '../../src/tickets/search.js';
import { sweepStaleTickets } from '../../src/tickets/stale.js';
import { addUser, Client, listedTickets, type TestApp } from '../helpers/app.js';
import { gameServer, startBridged, type BridgedSetup } from '../helpers/bridge.js';

let setup: BridgedSetup;
let app: TestApp;
let alice: User;
let bob: User;
let staff: User;
const RELAY = { whisperMax: 200, discord: false, notify: { email: false, telegram: false } };

const SUBJECTS = ['Lost my Valkyrie Helm', 'Cannot login', 'Refund please', 'Персонаж застрял', '課金について', 'Bot in prontera', 'Refine failed', 'Scam report'];
const BODIES = [
  'The refine NPC took my Elunium.',
  'Пропал предмет после перезагрузки',
  'アイテムが届きません',
  'I typed "quoted" and NEAR(x y) and 100%_done',
  'Error 1024 at login, REFUND me',
  'ok',
];

const METRICS_TOKEN = 'metrics-token-for-the-plans';

before(async () => {
  // With GET /metrics on, so its scrape-time statements are among the plans checked below.
  setup = await startBridged({ env: { METRICS_TOKEN } });
  app = setup.app;
  alice = await addUser(app.db, 'alice');
  bob = await addUser(app.db, 'bob');
  staff = await addUser(app.db, 'sam', 'correct horse battery', 'staff');
  let n = 0;
  for (let i = 0; i < 40; i++) {
    const owner = i % 3 === 0 ? bob : alice;
    const id = createWebTicket(
      app.db,
      { user: owner, subject: `${SUBJECTS[i % SUBJECTS.length]} ${i}`, body: BODIES[i % BODIES.length]!, priority: (['low', 'normal', 'high', 'urgent'] as const)[i % 4]!, uploads: [] },
      { ip: null },
    );
    // Different activity times, so the order is the same whichever way a search runs.
    prepared(app.db, 'UPDATE tickets SET updated_at = ?, created_at = ? WHERE id = ?').run(1_700_000_000_000 + (n += 7919) * 1000, 1_690_000_000_000 + i * 1000, id);
    if (i % 5 === 0) replyAsStaff(app.db, { ticketId: id, user: staff, body: `Support says: ${BODIES[(i + 2) % BODIES.length]}`, status: 'waiting_user', uploads: [] }, { ip: null }, RELAY);
    if (i % 7 === 0) addInternalNote(app.db, id, `internal only: secretword ${i}`, staff, { ip: null });
    if (i % 9 === 0) setTicketStatus(app.db, id, 'closed', staff, { ip: null }, RELAY.notify);
  }
  // The stale-ticket sweep (issue #18) prepares its candidate queries; at a time before every ticket, nothing is due.
  sweepStaleTickets(app.db, { notify: RELAY.notify, whisperMax: 200, whisperEncoding: 'utf-8', timeZone: 'UTC' }, 1_600_000_000_000);
});
after(() => setup.close());

function query(q: string, extra: Partial<TicketListQuery> = {}): TicketListQuery {
  return { limit: 100, offset: 0, ...parseSearch(q), ...extra };
}

const ids = (rows: { id: number }[]) => rows.map((r) => r.id);

describe('a search gives the same answer by the index, by walking tickets and by walking matches', () => {
  const words = ['refine', 'REFUND', 'персонаж', 'ПРОПАЛ', 'アイテム', '課金', 'ok', '%_', '"quoted"', 'NEAR(x', 'login 1024', 'helm valk', 'secretword', 'status', 'closed', 'nothingmatches', '1', 'ok refine', 'Support refine'];
  const sorted = (rows: { id: number }[]) => ids(rows).sort((a, b) => a - b);
  for (const word of words) {
    test(`"${word}" for a player, for staff, with and without status filters`, () => {
      for (const extra of [{ userId: alice.id }, { userId: bob.id, status: 'all' as const }, { includeInternal: true, status: 'all' as const }, { includeInternal: true }]) {
        // Sorted by creation, staff searches take the index or the ticket walk too (players cannot sort).
        const ordered = extra.userId === undefined ? { ...extra, sort: 'created' as const } : extra;
        const byIndex = listTickets(app.db, query(word, ordered));
        const byWalk = listTickets(app.db, query(word, { ...ordered, searchIndexLimit: -1 }));
        assert.deepEqual(ids(byWalk), ids(byIndex), `${word} ${JSON.stringify(extra)}`);
        assert.equal(planSearch(app.db, query(word, { ...ordered, searchIndexLimit: -1 })).selective.size, 0, 'the walk was really taken');
        const plan = planSearch(app.db, query(word, extra));
        if (plan.newestMatch) assert.deepEqual(sorted(listTickets(app.db, query(word, extra), plan)), sorted(byIndex), `by newest match: ${word} ${JSON.stringify(extra)}`);
        assert.equal(plan.newestMatch !== undefined, extra.userId === undefined && /\S{3}/.test(word), 'staff searches with a word of 3+ characters walk matches');
      }
    });
  }

  test('what a search finds (and never finds)', () => {
    const aliceRefine = listTickets(app.db, query('refine', { userId: alice.id, status: 'all' }));
    assert.ok(aliceRefine.length > 0);
    assert.ok(aliceRefine.every((t) => t.userId === alice.id), 'only her own tickets');
    assert.equal(listTickets(app.db, query('secretword', { userId: alice.id, status: 'all' })).length, 0, 'internal notes are not searched for players');
    assert.equal(listTickets(app.db, query('secretword', { userId: alice.id, status: 'all', searchIndexLimit: -1 })).length, 0, 'not by the walk either');
    assert.ok(listTickets(app.db, query('secretword', { includeInternal: true, status: 'all' })).length > 0, 'staff find internal notes');
    assert.equal(listTickets(app.db, query('Status changed', { includeInternal: true, status: 'all', searchIndexLimit: -1 })).length, 0, 'system lines are not searched');
  });

  test('a walk looks at the most recently active tickets only, and says so', () => {
    const all = listTickets(app.db, query('', { status: 'all', includeInternal: true }));
    const page = ticketListPage(app.db, query('ok', { status: 'all', includeInternal: true, searchIndexLimit: -1, searchWalkWindow: 10 }));
    assert.equal(page.searchWindow, 10);
    const recent = new Set(ids(all.slice(0, 10)));
    assert.ok(page.tickets.length > 0 && page.tickets.every((t) => recent.has(t.id)), 'only tickets among the 10 most recently active');
    assert.equal(page.total, undefined, 'a walked search is not counted');
    assert.equal(ticketListPage(app.db, query('ok', { status: 'all', includeInternal: true })).searchWindow, undefined, 'by the index: every ticket');
  });
});

describe('counts', () => {
  test('stop at the cap and say so', () => {
    assert.deepEqual(countTickets(app.db, query('', { status: 'all' }), undefined, 5), { count: 5, exact: false });
    assert.deepEqual(countTickets(app.db, query('', { status: 'all' }), undefined, 1000), { count: 40, exact: true });
    const open = listTickets(app.db, query('', { limit: 1000 })).length;
    assert.deepEqual(countTickets(app.db, query('')), { count: open, exact: true }, '"all except closed" counted by status ranges');
  });

  test('the page pages without a total when a search is walked', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    const page = await client.get(`/index.php?view=tickets&status=all&q=${encodeURIComponent('refine')}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Showing 1–\d+ of \d+/);
    assert.ok(listedTickets(page.text).length > 0);
  });
});

// Plans: every statement the app prepared while serving players, staff and the game server.
const BIG_TABLES = ['tickets', 'messages', 'attachments', 'audit_log', 'sessions', 'game_whispers', 'game_requests', 'discord_outbox', 'notification_outbox', 'user_tokens', 'messages_fts', 'tickets_fts'];
/** Statements allowed to read a whole table, and why. */
const ALLOWED_SCANS: [RegExp, string][] = [
  [/^\s*SELECT COUNT\(\*\) AS n FROM users/, 'users is small (accounts, not tickets)'],
  [/FROM audit_log a\b.*ORDER BY/s, 'the audit page pages through the newest rows with its index'],
];

describe('query plans', () => {
  before(async () => {
    // Exercise what users do, so the statement cache holds the real SQL.
    const player = new Client(app.url);
    await player.login('alice');
    const support = new Client(app.url);
    await support.login('sam');
    for (const url of [
      '/index.php?view=tickets',
      '/index.php?view=tickets&status=all&date_from=2023-01-01&date_to=2023-12-31',
      '/index.php?view=tickets&q=refine',
      '/index.php?view=tickets&q=ok',
      '/index.php?view=tickets&status=waiting_user',
    ]) {
      assert.equal((await player.get(url)).status, 200, url);
    }
    for (const url of [
      '/index.php?view=tickets',
      '/index.php?view=tickets&status=all',
      '/index.php?view=tickets&sort=priority',
      '/index.php?view=tickets&sort=created&status=all',
      '/index.php?view=tickets&assignee=mine',
      '/index.php?view=tickets&assignee=unassigned&source=game',
      `/index.php?view=tickets&status=all&q=${encodeURIComponent('secretword refine')}`,
      '/index.php?view=tickets&status=all&q=ok&page=2',
      '/index.php?view=tickets&q=refine&priority=urgent&page=2',
      '/index.php?view=tickets&status=all&q=refine&sort=created',
      `/index.php?view=tickets&status=all&q=${encodeURIComponent('#1')}`,
      `/index.php?view=ticket&id=${ids(listTickets(app.db, query('', { status: 'all' })))[0]}`,
      // view=stats (issue #18): its figures over a range holding every ticket, page and CSV.
      '/index.php?view=stats&from=2023-07-01&to=2024-06-30',
      '/index.php?view=stats&from=2023-07-01&to=2024-06-30&format=csv',
      '/index.php?view=stats',
    ]) {
      assert.equal((await support.get(url)).status, 200, url);
    }
    const game = gameServer(app.url);
    const hero = { account_id: 2000001, char_id: 150001, name: 'Hero' };
    const opened = await game.ticket(hero, 'pm', 'help me');
    assert.equal(opened.status, 200);
    await game.ticket(hero, 'pm', 'still here', 'req-1');
    await game.whispers(0);
    await game.logout(hero);
    const scrape = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(scrape.status, 200);
    assert.match(await scrape.text(), /ticketbridge_tickets\{status="closed",source="web"\}/);
  });

  test('every statement on a big table uses an index, and no list sorts every row', () => {
    const problems: string[] = [];
    const statements = preparedSql(app.db);
    assert.ok(statements.length > 40, `the app prepared ${statements.length} statements`);
    for (const sql of statements) {
      if (!/^\s*(SELECT|UPDATE|DELETE|WITH)/i.test(sql)) continue;
      const allowed = ALLOWED_SCANS.find(([pattern]) => pattern.test(sql));
      if (allowed) continue;
      const params = (sql.match(/\?/g) ?? []).map(() => 1);
      const plan = (app.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
      for (const line of plan) {
        const scan = /^SCAN (\w+)(?: AS \w+)?(.*)$/.exec(line);
        if (scan && BIG_TABLES.includes(scan[1]!) && !/USING (COVERING )?INDEX|VIRTUAL TABLE/.test(scan[2]!)) problems.push(`full scan of ${scan[1]}: ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
        // A search by the index sorts its matches: at most SEARCH_INDEX_LIMIT, found by rowid.
        const boundedSearch = /tickets_fts MATCH/.test(sql) && plan.some((l) => /^SEARCH t USING (INTEGER PRIMARY KEY|INDEX tickets_user_)/.test(l));
        // A date range read from an index (created_at, or closed_at for view=stats) sorts only that range.
        if (/^USE TEMP B-TREE FOR ORDER BY/.test(line) && /FROM tickets|FROM messages/.test(sql) && !/(created_at|closed_at) >= \?/.test(sql) && !boundedSearch) {
          problems.push(`sorts every row: ${sql.replace(/\s+/g, ' ').slice(-300)} || ${plan.join(' / ')}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the hot lists read the indexes made for them', () => {
    const plan = (sql: string, ...params: unknown[]) => (app.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
    const find = (pattern: RegExp) => {
      const sql = preparedSql(app.db).find((s) => pattern.test(s));
      assert.ok(sql, `a statement matching ${pattern}`);
      return sql;
    };
    const playerList = find(/FROM tickets t LEFT JOIN users owner .*WHERE t\.user_id = \? AND t\.status <> 'closed' ORDER BY t\.updated_at DESC/s);
    // "All except closed", newest first: one page of entries of the open tickets' own index
    // (migration 014), in the list's order, with no sort of ties.
    assert.match(plan(playerList, 1, 51, 0), /USING INDEX tickets_user_open/);
    assert.doesNotMatch(plan(playerList, 1, 51, 0), /TEMP B-TREE/);
    const staffQueue = find(/FROM tickets t LEFT JOIN users owner .*WHERE t\.status <> 'closed' ORDER BY t\.updated_at DESC, t\.id DESC LIMIT/s);
    assert.match(plan(staffQueue, 51, 0), /SCAN t USING INDEX tickets_open/);
    assert.doesNotMatch(plan(staffQueue, 51, 0), /TEMP B-TREE/);
    const priority = find(/ORDER BY \(CASE priority/);
    assert.match(plan(priority, 51, 0), /tickets_priority_rank/);
    const created = find(/WHERE t\.status <> 'closed'|ORDER BY t\.created_at DESC/);
    void created;
    assert.match(plan(find(/status = 'waiting_user'/), 1), /tickets_waiting_user|tickets_user_status/);
    // Every staff page lists the assignable staff: from their own index (migration 013), not every account.
    assert.match(plan(find(/FROM users WHERE role IN \('staff', 'admin'\) AND disabled_at IS NULL ORDER BY username/)), /USING INDEX users_assignable/);
    // A staff search reads matches newest first from the FTS5 index itself: no sort, so it can stop early.
    for (const pattern of [/FROM messages_fts f JOIN messages m ON m\.id = f\.rowid\s+WHERE messages_fts MATCH \? AND .* ORDER BY f\.rowid DESC$/s, /FROM tickets_fts f JOIN tickets t ON t\.id = f\.rowid WHERE tickets_fts MATCH \? ORDER BY f\.rowid DESC$/]) {
      const detail = plan(find(pattern), '"refine"');
      assert.match(detail, /^SCAN f VIRTUAL TABLE INDEX/m);
      assert.doesNotMatch(detail, /TEMP B-TREE/);
    }
    assert.match(plan(find(/FROM messages WHERE ticket_id = \? AND \(internal = 0 OR \?\) ORDER BY id LIMIT/), 1, 1, 100, 0), /messages_ticket/);
    // GET /metrics: tickets by status and source from the covering index (migration 009), never the table.
    assert.match(plan(find(/SELECT status, source, COUNT\(\*\) AS n FROM tickets WHERE status IN/)), /SEARCH tickets USING COVERING INDEX tickets_status_source/);
    assert.match(plan(find(/FROM tickets WHERE status = 'closed' GROUP BY source/)), /SEARCH tickets USING COVERING INDEX tickets_status_source/);
    // The stale-ticket sweep: the waiting tickets by the partial index of migration 011, in its order.
    for (const sql of preparedSql(app.db).filter((s) => /reminded_at IS (NOT )?NULL/.test(s) && /ORDER BY updated_at LIMIT/.test(s))) {
      const params = (sql.match(/\?/g) ?? []).map(() => 1);
      const detail = plan(sql, ...params);
      assert.match(detail, /tickets_stale/, sql);
      assert.doesNotMatch(detail, /TEMP B-TREE/, sql);
    }
    assert.equal(preparedSql(app.db).filter((s) => /reminded_at IS (NOT )?NULL/.test(s) && /ORDER BY updated_at LIMIT/.test(s)).length, 2, 'both sweep queries were prepared');
  });

  test('view=stats reads only its range, from covering indexes (migration 012)', () => {
    const plan = (sql: string) => (app.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(sql.match(/\?/g) ?? []).map(() => 1)) as { detail: string }[]).map((r) => r.detail).join('\n');
    const expected: [RegExp, RegExp][] = [
      [/^SELECT source, COUNT\(\*\) AS n FROM tickets WHERE created_at >= \?/, /SEARCH tickets USING COVERING INDEX tickets_created_stats \(created_at>\? AND created_at<\?\)/],
      [/^SELECT source, COUNT\(\*\) AS n FROM tickets WHERE closed_at >= \?/, /SEARCH tickets USING COVERING INDEX tickets_closed_stats \(closed_at>\? AND closed_at<\?\)/],
      [/^SELECT COUNT\(\*\) AS n FROM tickets WHERE created_at >= \? AND created_at < \? AND first_response_at IS NOT NULL$/, /COVERING INDEX tickets_created_stats/],
      [/^SELECT first_response_at - created_at AS d .* ORDER BY d LIMIT \? OFFSET \?$/, /SEARCH tickets USING COVERING INDEX tickets_created_stats \(created_at>\? AND created_at<\?\)/],
      [/^SELECT COUNT\(\*\) AS n FROM tickets WHERE closed_at >= \? AND closed_at < \?$/, /COVERING INDEX tickets_closed_stats/],
      [/^SELECT closed_at - created_at AS d .* ORDER BY d LIMIT \? OFFSET \?$/, /SEARCH tickets USING COVERING INDEX tickets_closed_stats \(closed_at>\? AND closed_at<\?\)/],
      [/^SELECT status, COUNT\(\*\) AS n FROM tickets WHERE status IN \('open'/, /SEARCH tickets USING COVERING INDEX tickets_status_\w+ \(status=\?\)/],
      [/^SELECT id, subject, updated_at AS since FROM tickets WHERE status = \? ORDER BY updated_at LIMIT 1$/, /^SEARCH tickets USING INDEX tickets_status_updated \(status=\?\)$/],
      [/^SELECT author_id AS id, COUNT\(\*\) AS n FROM messages WHERE author_kind = 'staff'/, /SEARCH messages USING COVERING INDEX messages_staff_replies \(created_at>\? AND created_at<\?\)/],
      [/^SELECT actor_id AS id, COUNT\(\*\) AS n FROM audit_log WHERE action = 'ticket\.close'/, /SEARCH audit_log USING INDEX audit_log_action \(action=\? AND at>\? AND at<\?\)/],
      [/^SELECT staff_id AS id, COUNT\(\*\) AS n, AVG\(rating\) AS average FROM ticket_ratings/, /SEARCH ticket_ratings USING INDEX ticket_ratings_created \(created_at>\? AND created_at<\?\)/],
    ];
    for (const [statement, index] of expected) {
      const sql = preparedSql(app.db).find((s) => statement.test(s));
      assert.ok(sql, `view=stats prepared a statement matching ${statement}`);
      const detail = plan(sql);
      assert.match(detail, index, sql);
      assert.doesNotMatch(detail, /^SCAN /m, sql);
    }
  });
});
