// view=stats (issue #18): every figure of the page and of its CSV against a small fixed data set
// computed by hand (test/helpers/statsData.ts), the range's edges in a time zone that is not UTC,
// the default range, who may see it, and bad input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ticketStats } from '../../src/db/stats.js';
import { dayRange, formatDateTime } from '../../src/time.js';
import { csvCell } from '../../src/web/handlers/audit.js';
import { formatDuration } from '../../src/web/handlers/stats.js';
import { addUser, Client, startApp, type TestApp } from '../helpers/app.js';
import { B, E, EXPECTED, seedStats, STATS_FROM, STATS_TO, STATS_TZ, type StatsTickets } from '../helpers/statsData.js';

let app: TestApp;
let tickets: StatsTickets;
const staff = new Client('');
const admin = new Client('');
const player = new Client('');
const url = `/index.php?view=stats&from=${STATS_FROM}&to=${STATS_TO}`;

before(async () => {
  app = await startApp({ env: { TZ: STATS_TZ } });
  const people = {
    ada: await addUser(app.db, 'ada', 'correct horse battery', 'admin'),
    sam: await addUser(app.db, 'sam', 'correct horse battery', 'staff'),
    zed: await addUser(app.db, 'zed', 'correct horse battery', 'staff'),
    pat: await addUser(app.db, 'pat'),
  };
  tickets = seedStats(app.db, people);
  for (const [client, name] of [[staff, 'sam'], [admin, 'ada'], [player, 'pat']] as const) {
    (client as { base: string }).base = app.url;
    await client.login(name);
  }
});
after(() => app.close());

/** The text of the element carrying data-stat="name" (inside `scope` when given), tags stripped. */
function stat(html: string, name: string, scope?: string): string {
  let text = html;
  if (scope) {
    const start = html.indexOf(scope);
    assert.ok(start >= 0, `no ${scope}`);
    text = html.slice(start, html.indexOf('</tr>', start));
  }
  const match = new RegExp(`data-stat="${name}">([\\s\\S]*?)</td>`).exec(text);
  assert.ok(match, `no data-stat="${name}"${scope ? ` in ${scope}` : ''}`);
  return match[1]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
}

function csvRows(text: string): string[][] {
  return text
    .replace(/^\ufeff/, '')
    .split('\r\n')
    .map((line) => (line === '' ? [] : [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replaceAll('""', '"'))));
}

describe('the figures', () => {
  test('the range is whole days in TZ', () => {
    assert.deepEqual(dayRange(STATS_FROM, STATS_TO, STATS_TZ), { start: B, end: E });
    assert.equal(new Date(B).toISOString(), '2026-01-09T23:00:00.000Z');
  });

  test('from the database helpers, exactly as computed by hand', () => {
    const stats = ticketStats(app.db, { from: B, before: E });
    assert.deepEqual(stats.opened, EXPECTED.opened);
    assert.deepEqual(stats.closed, EXPECTED.closed);
    assert.deepEqual(stats.firstResponse, { count: 5, median: EXPECTED.firstResponse.median, p90: EXPECTED.firstResponse.p90 });
    assert.deepEqual(stats.resolution, { count: 4, median: EXPECTED.resolution.median, p90: EXPECTED.resolution.p90 });
    assert.deepEqual(
      stats.backlog.map((b) => [b.status, b.count, b.oldest?.id]),
      [
        ['open', 3, tickets.t5],
        ['in_progress', 1, tickets.t6],
        ['answered', 1, tickets.t2],
        ['waiting_user', 1, tickets.t4],
      ],
    );
    assert.deepEqual(
      stats.staff.map((s) => [s.username, s.role, s.replies, s.closes, s.ratings, s.averageRating === undefined ? undefined : Math.round(s.averageRating * 100) / 100]),
      [
        ['ada', 'admin', 2, 1, 1, 4],
        ['sam', 'staff', 3, 3, 3, 3.67],
        ['zed', 'staff', 0, 0, 0, undefined],
      ],
    );
  });

  test('an even number of first responses and an odd number of resolutions (the 10th only)', () => {
    // The 10th in Berlin: t1 t2 t3 t4 t6 opened (first responses 10, 30, 60, 200, 5 min) and t1, t7 closed.
    const { start, end } = dayRange('2026-01-10', '2026-01-10', STATS_TZ);
    const stats = ticketStats(app.db, { from: start!, before: end! });
    assert.equal(stats.firstResponse.count, 5);
    // Without t6 (from 00:00:01): four values 10, 30, 60, 200 min, median (30 + 60) / 2 = 45 min, p90 the 4th.
    const later = ticketStats(app.db, { from: start! + 1000, before: end! });
    assert.deepEqual(later.firstResponse, { count: 4, median: 45 * 60_000, p90: 200 * 60_000 });
    // Resolutions on the 10th: t1 (2 h), t7 (2 h): even; with the 11th t3 (26 h) joins: odd, median 2 h, p90 26 h.
    assert.deepEqual(stats.resolution, { count: 2, median: 2 * 3_600_000, p90: 2 * 3_600_000 });
    const { end: end11 } = dayRange('2026-01-11', '2026-01-11', STATS_TZ);
    assert.deepEqual(ticketStats(app.db, { from: start!, before: end11! }).resolution, { count: 3, median: 2 * 3_600_000, p90: 26 * 3_600_000 });
  });

  test('durations read humanly in the reader\'s language', () => {
    assert.equal(formatDuration(EXPECTED.firstResponse.p90, 'en'), '3 hr 20 min');
    assert.equal(formatDuration(EXPECTED.resolution.p90, 'en'), '4 days 6 hr');
    assert.equal(formatDuration(45_000, 'en'), '45 sec');
    assert.equal(formatDuration(26 * 3_600_000, 'en'), '1 day 2 hr');
    assert.match(formatDuration(200 * 60_000, 'ru'), /^3 ч 20 мин$/);
  });
});

describe('the page', () => {
  test('shows every figure', async () => {
    const page = await staff.get(url);
    assert.equal(page.status, 200);
    const html = page.text;
    assert.equal(stat(html, 'opened-web'), '6');
    assert.equal(stat(html, 'opened-game'), '1');
    assert.equal(stat(html, 'opened-total'), '7');
    assert.equal(stat(html, 'closed-web'), '3');
    assert.equal(stat(html, 'closed-game'), '1');
    assert.equal(stat(html, 'closed-total'), '4');
    assert.equal(stat(html, 'first-response-count'), '5');
    assert.equal(stat(html, 'first-response-median'), EXPECTED.firstResponse.medianText);
    assert.equal(stat(html, 'first-response-p90'), EXPECTED.firstResponse.p90Text);
    assert.equal(stat(html, 'resolution-count'), '4');
    assert.equal(stat(html, 'resolution-median'), EXPECTED.resolution.medianText);
    assert.equal(stat(html, 'resolution-p90'), EXPECTED.resolution.p90Text);
    for (const [status, count] of Object.entries(EXPECTED.backlog)) assert.equal(stat(html, `backlog-${status}`), String(count), status);
    assert.match(html, new RegExp(`data-stat="backlog-open-oldest"><a href="/index.php\\?view=ticket&amp;id=${tickets.t5}" data-ticket="${tickets.t5}">#${tickets.t5} <bdi dir="auto">Oldest open: my Valkyrie Helm</bdi></a>`));
    assert.match(html, new RegExp(`data-stat="backlog-in_progress-oldest"><a [^>]*data-ticket="${tickets.t6}"`));
    assert.match(html, new RegExp(`data-stat="backlog-answered-oldest"><a [^>]*data-ticket="${tickets.t2}"`));
    assert.match(html, new RegExp(`data-stat="backlog-waiting_user-oldest"><a [^>]*data-ticket="${tickets.t4}"`));
    assert.equal(stat(html, 'replies', 'data-staff="ada"'), '2');
    assert.equal(stat(html, 'closes', 'data-staff="ada"'), '1');
    assert.equal(stat(html, 'rating', 'data-staff="ada"'), '4 (1 rating)');
    assert.equal(stat(html, 'replies', 'data-staff="sam"'), '3');
    assert.equal(stat(html, 'closes', 'data-staff="sam"'), '3');
    assert.equal(stat(html, 'rating', 'data-staff="sam"'), '3.7 (3 ratings)');
    assert.equal(stat(html, 'replies', 'data-staff="zed"'), '0');
    assert.equal(stat(html, 'rating', 'data-staff="zed"'), '—');
    assert.doesNotMatch(html, /data-staff="pat"/, 'players are not staff');
    assert.match(html, /href="\/index\.php\?view=stats" class="nav-item active"/, 'the sidebar link, current');
    assert.match(html, new RegExp(`href="/index\\.php\\?view=stats&amp;from=${STATS_FROM}&amp;to=${STATS_TO}&amp;format=csv"`));
  });

  test('numbers and durations in the reader\'s language', async () => {
    app.db.prepare("UPDATE users SET locale = 'ru' WHERE username = 'zed'").run();
    const ru = new Client(app.url);
    await ru.login('zed');
    const page = await ru.get(url);
    assert.equal(page.status, 200);
    assert.match(page.text, /<html lang="ru"/);
    assert.equal(stat(page.text, 'first-response-p90'), '3 ч 20 мин');
    assert.equal(stat(page.text, 'rating', 'data-staff="sam"'), '3,7 (3 оценки)');
  });

  test('the default range is the last 30 days, today included', async () => {
    const page = await staff.get('/index.php?view=stats');
    assert.equal(page.status, 200);
    const today = formatDateTime(Date.now(), STATS_TZ).slice(0, 10);
    const start = new Date(Date.parse(today) - 29 * 86_400_000).toISOString().slice(0, 10);
    assert.match(page.text, new RegExp(`data-stats-range="${start}/${today}"`));
    assert.match(page.text, new RegExp(`id="stats-from" name="from" type="date" value="${start}"`));
    const oneDay = await staff.get(`/index.php?view=stats&from=${STATS_FROM}&to=${STATS_FROM}`);
    assert.equal(stat(oneDay.text, 'opened-total'), '6', 't1 t2 t3 t4 t5 t6 on the 10th');
    // Only `to`: the 30 days up to it.
    const onlyTo = await staff.get(`/index.php?view=stats&to=${STATS_TO}`);
    assert.match(onlyTo.text, /data-stats-range="2025-12-14\/2026-01-12"/);
  });
});

describe('the CSV', () => {
  test('every figure, one section per table, cells escaped', async () => {
    const reply = await admin.get(`${url}&format=csv`);
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(reply.headers.get('content-disposition') ?? '', /stats-2026-01-10-2026-01-12\.csv/);
    const rows = csvRows(reply.text);
    const blank = rows.findIndex((r) => r.length === 0);
    const summary = rows.slice(0, blank);
    assert.deepEqual(summary[0], ['section', 'metric', 'value']);
    const value = (metric: string) => summary.find((r) => r[1] === metric)?.[2];
    assert.equal(value('from'), STATS_FROM);
    assert.equal(value('to'), STATS_TO);
    assert.equal(value('time_zone'), STATS_TZ);
    assert.equal(value('start_utc'), '2026-01-09T23:00:00.000Z');
    assert.equal(value('end_utc'), '2026-01-12T23:00:00.000Z');
    assert.equal(value('opened_web'), '6');
    assert.equal(value('opened_game'), '1');
    assert.equal(value('opened_total'), '7');
    assert.equal(value('closed_web'), '3');
    assert.equal(value('closed_game'), '1');
    assert.equal(value('closed_total'), '4');
    assert.equal(value('first_response_count'), '5');
    assert.equal(value('first_response_median_seconds'), '1800');
    assert.equal(value('first_response_p90_seconds'), '12000');
    assert.equal(value('resolution_count'), '4');
    assert.equal(value('resolution_median_seconds'), String(14 * 3600));
    assert.equal(value('resolution_p90_seconds'), String(102 * 3600));
    for (const [status, count] of Object.entries(EXPECTED.backlog)) assert.equal(value(status), String(count), status);
    assert.equal(value('open_oldest_ticket'), String(tickets.t5));
    assert.equal(value('waiting_user_oldest_ticket'), String(tickets.t4));
    assert.equal(value('open_oldest_since_utc'), new Date(B + 5 * 3_600_000).toISOString());
    assert.deepEqual(rows.slice(blank + 1).filter((r) => r.length), [
      ['staff_id', 'staff', 'role', 'replies', 'closes', 'ratings', 'average_rating'],
      [String(app.db.prepare("SELECT id FROM users WHERE username = 'ada'").pluck().get()), 'ada', 'admin', '2', '1', '1', '4'],
      [String(app.db.prepare("SELECT id FROM users WHERE username = 'sam'").pluck().get()), 'sam', 'staff', '3', '3', '3', '3.67'],
      [String(app.db.prepare("SELECT id FROM users WHERE username = 'zed'").pluck().get()), 'zed', 'staff', '0', '0', '0', ''],
    ]);
  });

  test('every cell is quoted and escaped like the audit log\'s (no spreadsheet formulas)', async () => {
    const reply = await staff.get(`${url}&format=csv`);
    for (const line of reply.text.replace(/^\ufeff/, '').split('\r\n')) assert.match(line, /^("(?:[^"]|"")*"(,"(?:[^"]|"")*")*)?$/, line);
    assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
    assert.equal(csvCell('-2'), '"\'-2"');
  });
});

describe('access and bad input', () => {
  test('players may not; staff and admins may', async () => {
    assert.equal((await player.get(url)).status, 403);
    assert.equal((await player.get(`${url}&format=csv`)).status, 403);
    assert.doesNotMatch((await player.get('/index.php?view=tickets')).text, /view=stats/, 'no sidebar link for players');
    assert.equal((await staff.get(url)).status, 200);
    assert.equal((await admin.get(url)).status, 200);
    const anonymous = await new Client(app.url).get(url);
    assert.equal(anonymous.status, 302);
  });

  test('a date that is not one: 400 inline; a range backwards or too long: 422 inline', async () => {
    for (const [query, status, field] of [
      ['from=2026-13-01', 400, 'from'],
      ['to=2026-02-30', 400, 'to'],
      ['from=yesterday&to=2026-01-01', 400, 'from'],
      ['from=2026-01-12&to=2026-01-10', 422, 'to'],
      ['from=2024-01-01&to=2025-01-01', 422, 'to'],
    ] as const) {
      const page = await staff.get(`/index.php?view=stats&${query}`);
      assert.equal(page.status, status, query);
      assert.match(page.text, new RegExp(`id="stats-${field}"[^>]*aria-invalid="true"`), query);
      assert.match(page.text, /data-form-error/);
      assert.doesNotMatch(page.text, /data-stat=/, `${query}: no figures`);
      assert.equal((await staff.get(`/index.php?view=stats&${query}&format=csv`)).status, status, `${query} as CSV`);
    }
    // 366 days is the longest range allowed (2024 was a leap year).
    assert.equal((await staff.get('/index.php?view=stats&from=2024-01-01&to=2024-12-31')).status, 200);
    assert.equal((await staff.get('/index.php?view=stats&from=2026-01-10&from=2026-01-11')).status, 400, 'a parameter twice');
  });
});
