import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusAfterPlayerReply, STATUSES } from '../../src/tickets/model.js';
import { parseSearch, SearchError } from '../../src/tickets/search.js';
import { dayRange, formatDateTime, parseYmd } from '../../src/time.js';
import { contentDisposition } from '../../src/web/handlers/attachment.js';
import { foldText, renderText } from '../../src/web/text.js';
import { normaliseFileName } from '../../src/web/uploads/fileTypes.js';

describe('status after a player reply (seed 000)', () => {
  test('waiting_user becomes answered; every other status stays', () => {
    const after = Object.fromEntries(STATUSES.map((s) => [s, statusAfterPlayerReply(s)]));
    assert.deepEqual(after, { open: 'open', in_progress: 'in_progress', answered: 'answered', waiting_user: 'answered', closed: 'closed' });
  });
});

describe('parseSearch', () => {
  test('words become quoted FTS strings (3+ characters) and case-folded substrings', () => {
    assert.deepEqual(parseSearch('  Login  "error" '), {
      terms: [
        { needle: 'login', match: '"Login"' },
        { needle: '"error"', match: '"""error"""' },
      ],
    });
    assert.deepEqual(parseSearch('a%_\\').terms, [{ needle: 'a%_\\', match: '"a%_\\"' }]);
    assert.deepEqual(parseSearch('%_').terms, [{ needle: '%_' }]);
    assert.deepEqual(parseSearch('日本').terms, [{ needle: '日本' }]);
    assert.deepEqual(parseSearch('ПРОПАЛ').terms, [{ needle: 'пропал', match: '"ПРОПАЛ"' }]);
  });

  test('a number is also a ticket number; duplicates count once; control characters are spaces', () => {
    assert.equal(parseSearch('#42').ticketNumber, 42);
    assert.equal(parseSearch('42').ticketNumber, 42);
    assert.equal(parseSearch('42 x').ticketNumber, undefined);
    assert.equal(parseSearch('x x x').terms.length, 1);
    assert.deepEqual(parseSearch('ab\u0000cd').terms, [{ needle: 'ab' }, { needle: 'cd' }]);
  });

  test('limits', () => {
    assert.throws(() => parseSearch('1 2 3 4 5 6 7 8 9'), SearchError);
    assert.throws(() => parseSearch('x'.repeat(201)), SearchError);
    assert.deepEqual(parseSearch('').terms, []);
  });
});

describe('dates in the app time zone', () => {
  test('parseYmd accepts real dates only', () => {
    assert.deepEqual(parseYmd('2024-02-29'), { year: 2024, month: 2, day: 29 });
    for (const bad of ['2025-02-29', '2025-13-01', '2025-1-01', '20251001', '2025-10-01T00:00', '']) assert.equal(parseYmd(bad), undefined, bad);
  });

  test('whole days, inclusive, across DST changes', () => {
    // Europe/Berlin: 2025-03-30 has 23 hours, 2025-10-26 has 25.
    const spring = dayRange('2025-03-30', '2025-03-30', 'Europe/Berlin');
    assert.equal(spring.start, Date.UTC(2025, 2, 29, 23));
    assert.equal(spring.end, Date.UTC(2025, 2, 30, 22));
    const autumn = dayRange('2025-10-26', '2025-10-26', 'Europe/Berlin');
    assert.equal(autumn.start, Date.UTC(2025, 9, 25, 22));
    assert.equal(autumn.end, Date.UTC(2025, 9, 26, 23));
    assert.deepEqual(dayRange('2025-12-31', '2025-12-31', 'UTC'), { start: Date.UTC(2025, 11, 31), end: Date.UTC(2026, 0, 1) });
    assert.deepEqual(dayRange(undefined, undefined, 'UTC'), {});
    const tokyo = dayRange('2025-01-01', undefined, 'Asia/Tokyo');
    assert.equal(tokyo.start, Date.UTC(2024, 11, 31, 15));
  });

  test('times are shown in the zone', () => {
    assert.equal(formatDateTime(Date.UTC(2025, 9, 28, 23, 30), 'Europe/Berlin'), '2025-10-29 00:30');
    assert.equal(formatDateTime(Date.UTC(2025, 9, 28, 23, 30), 'UTC'), '2025-10-28 23:30');
  });
});

describe('message text to HTML', () => {
  test('escapes everything and links only http(s)', () => {
    assert.equal(renderText('<b>&"\''), '&lt;b&gt;&amp;&quot;&#39;');
    assert.equal(renderText('see https://a.example/x?y=1&z=2, then'), 'see <a href="https://a.example/x?y=1&amp;z=2" rel="noopener noreferrer nofollow" target="_blank">https://a.example/x?y=1&amp;z=2</a>, then');
    assert.equal(renderText('javascript:alert(1) data:text/html,x'), 'javascript:alert(1) data:text/html,x');
    assert.equal(renderText('http://"onmouseover=alert(1)'), 'http://&quot;onmouseover=alert(1)');
    assert.equal(renderText('(https://x.example/a)'), '(<a href="https://x.example/a" rel="noopener noreferrer nofollow" target="_blank">https://x.example/a</a>)');
  });

  // Issue #12: a trailing-punctuation regular expression took quadratic time on a long run of
  // punctuation that does not reach the end of the URL (180,000 characters: hours). Linear now; the
  // test's timeout is the only clock here, tens of thousands of times what linear code needs.
  test('a URL followed by a long run of punctuation renders in linear time', { timeout: 10_000 }, () => {
    const run = '.,;:!?)]}'.repeat(20_000);
    const link = (url: string) => `<a href="${url}" rel="noopener noreferrer nofollow" target="_blank">${url}</a>`;
    assert.equal(renderText(`https://x.example/${run}a`), link(`https://x.example/${run}a`));
    assert.equal(renderText(`see https://x.example/a${'.'.repeat(100_000)}`), `see ${link('https://x.example/a')}${'.'.repeat(100_000)}`);
  });

  test('foldText keeps at most max units and never splits a surrogate pair', () => {
    assert.deepEqual(foldText('abcdef', 6), { text: 'abcdef', folded: false });
    assert.deepEqual(foldText('abcdef', 4), { text: 'abcd', folded: true });
    assert.deepEqual(foldText('ab\u{1F600}cd', 3), { text: 'ab', folded: true });
    assert.deepEqual(foldText('ab\u{1F600}cd', 4), { text: 'ab\u{1F600}', folded: true });
  });
});

describe('file names', () => {
  test('normaliseFileName keeps the name and extension, drops the dangerous parts', () => {
    assert.equal(normaliseFileName('../../secret.txt'), 'secret.txt');
    assert.equal(normaliseFileName('C:\\x\\y.png'), 'y.png');
    assert.equal(normaliseFileName('report\u202Egpj.exe'), 'reportgpj.exe');
    assert.equal(normaliseFileName('a\u0000b\u0007c.log'), 'abc.log');
    assert.equal(normaliseFileName('...hidden.txt'), 'hidden.txt');
    assert.equal(normaliseFileName('  spaced   out .txt '), 'spaced out .txt');
    assert.equal(normaliseFileName(''), 'file');
    assert.equal(normaliseFileName('/'), 'file');
    const long = normaliseFileName(`${'ж'.repeat(300)}.pdf`);
    assert.equal([...long].length, 200);
    assert.ok(long.endsWith('.pdf'));
    assert.equal(normaliseFileName('cafe\u0301.txt'), 'caf\u00e9.txt');
  });

  test('Content-Disposition carries an ASCII fallback and the RFC 5987 UTF-8 name', () => {
    assert.equal(contentDisposition('plain.txt'), `attachment; filename="plain.txt"; filename*=UTF-8''plain.txt`);
    assert.equal(contentDisposition('ä "q" (1)*.png'), `attachment; filename="_ _q_ (1)*.png"; filename*=UTF-8''%C3%A4%20%22q%22%20%281%29%2A.png`);
    assert.doesNotMatch(contentDisposition('a\\b%c.txt'), /filename="[^"]*[\\%]/);
  });
});
