// Discord markup as one line of game text (src/discord/gameText.ts). Every expected string is
// written out by hand. 1700000000 is 2023-11-14 22:13:20 UTC, 23:13:20 in Europe/Berlin (CET).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discordToGameText, type GameTextOptions } from '../../src/discord/gameText.js';

const USER = '123456789012345678';
const ROLE = '223456789012345678';
const CHANNEL = '323456789012345678';

const names: GameTextOptions['mentions'] = {
  user: (id) => (id === USER ? 'GM Sam' : undefined),
  role: (id) => (id === ROLE ? 'Moderators' : undefined),
  channel: (id) => (id === CHANNEL ? 'rules' : undefined),
};

interface Case {
  name: string;
  input: string;
  expected: string;
  options?: Partial<GameTextOptions>;
}

const cases: Case[] = [
  { name: 'plain text', input: 'Hello there, adventurer', expected: 'Hello there, adventurer' },
  { name: 'bold', input: 'this is **bold**', expected: 'this is bold' },
  { name: 'italics with * and _', input: '*italic* and _also_', expected: 'italic and also' },
  { name: 'underline', input: '__underline__ me', expected: 'underline me' },
  { name: 'strikethrough', input: '~~strike~~ that', expected: 'strike that' },
  { name: 'spoiler: the text shows', input: 'the answer is ||Prontera||', expected: 'the answer is Prontera' },
  { name: 'bold italic in one run', input: '***both***', expected: 'both' },
  { name: 'italic nested in bold, closed together', input: '**bold *and italic***', expected: 'bold and italic' },
  { name: 'italic inside underline', input: '__*underlined italic*__', expected: 'underlined italic' },
  { name: 'bold inside a spoiler', input: '||**spoiled bold**||', expected: 'spoiled bold' },
  { name: 'emphasis inside a word', input: 'x**y**z', expected: 'xyz' },
  { name: 'a lone * between spaces', input: '2 * 3 = 6', expected: '2 * 3 = 6' },
  { name: 'a lone * after a word', input: 'footnote* here', expected: 'footnote* here' },
  { name: '** never closed', input: '**never closed', expected: '**never closed' },
  { name: 'one pair closed, the next left open', input: '**bold** and **open', expected: 'bold and **open' },
  { name: 'one star too many', input: '**a*', expected: '*a' },
  { name: 'snake_case stays', input: 'set snake_case_name now', expected: 'set snake_case_name now' },
  { name: 'a single ~ is not strikethrough', input: '~about~ 5', expected: '~about~ 5' },
  { name: 'a lone || between spaces', input: 'a || b', expected: 'a || b' },
  { name: 'headers # ## ###', input: '# Title\n## Sub\n### Third\nbody', expected: 'Title Sub Third body' },
  { name: 'not headers: no space, four #', input: '#hashtag\n#### four', expected: '#hashtag #### four' },
  { name: 'subtext', input: '-# small print', expected: 'small print' },
  { name: 'block quotes', input: '> quoted\n> lines', expected: 'quoted lines' },
  { name: 'multi-line quote', input: '>>> all\nthe rest', expected: 'all the rest' },
  { name: 'a header in a quote', input: '> # quoted header', expected: 'quoted header' },
  { name: '> without a space is text', input: '>not a quote', expected: '>not a quote' },
  { name: 'lists keep their markers', input: 'Steps:\n- one\n- two\n* three\n1. first', expected: 'Steps: - one - two * three 1. first' },
  { name: 'inline code: markup inside stays', input: 'type `~~@ban *x*~~` now', expected: 'type ~~@ban *x*~~ now' },
  { name: 'strikethrough around code with ~~ in it', input: '~~struck `~~code~~` text~~', expected: 'struck ~~code~~ text' },
  { name: 'a star inside code is not a closer', input: '*a `b*` c*', expected: 'a b* c' },
  { name: 'double-backtick code with a backtick inside', input: 'use `` a`b `` here', expected: 'use a`b here' },
  { name: 'fenced code with a language', input: '```js\nconst a = **b**;\n```', expected: 'const a = **b**;' },
  { name: 'fenced code without a language', input: 'see:\n```\nplain  block\nline two\n```\ndone', expected: 'see: plain block line two done' },
  { name: 'fenced code on one line', input: '```no newline```', expected: 'no newline' },
  { name: 'an unclosed backtick', input: '`unclosed code', expected: '`unclosed code' },
  { name: 'masked link', input: 'read [the guide](https://example.com/guide) first', expected: 'read the guide (https://example.com/guide) first' },
  { name: 'masked link with brackets in its text', input: '[see [1] here](https://example.com/a)', expected: 'see [1] here (https://example.com/a)' },
  { name: 'masked link with markup, url in <>', input: '[**bold** link](<https://example.com/b>)', expected: 'bold link (https://example.com/b)' },
  { name: 'masked link with parentheses in its url', input: '[A](https://en.wikipedia.org/wiki/A_(b)).', expected: 'A (https://en.wikipedia.org/wiki/A_(b)).' },
  { name: 'masked link never closed', input: '[a](https://example.com/x and more', expected: '[a](https://example.com/x and more' },
  { name: 'not http(s): left as typed', input: '[click](javascript:alert(1))', expected: '[click](javascript:alert(1))' },
  { name: 'brackets without a link', input: '[1] see [docs](https://example.com/d)', expected: '[1] see docs (https://example.com/d)' },
  { name: 'an unclosed [ before a link', input: '[a [b](https://example.com/c)', expected: '[a b (https://example.com/c)' },
  { name: 'url in <>', input: 'visit <https://example.com/x?a=1>', expected: 'visit https://example.com/x?a=1' },
  { name: 'custom and animated emoji', input: `<:pepe:${USER}> and <a:dance:${ROLE}>!`, expected: ':pepe: and :dance:!' },
  { name: 'timestamp without a style (UTC)', input: 'at <t:1700000000>', expected: 'at 2023-11-14 22:13' },
  {
    name: 'every timestamp style in the time zone',
    input: '<t:1700000000:t>|<t:1700000000:T>|<t:1700000000:d>|<t:1700000000:D>|<t:1700000000:f>|<t:1700000000:F>|<t:1700000000:R>',
    expected: '23:13|23:13:20|2023-11-14|2023-11-14|2023-11-14 23:13|2023-11-14 23:13|2023-11-14 23:13',
    options: { timeZone: 'Europe/Berlin' },
  },
  { name: 'timestamp with an invalid style', input: 'at <t:1700000000:X>', expected: 'at <t:1700000000:X>' },
  { name: 'timestamp out of range', input: '<t:99999999999999> <t:-5>', expected: '<t:99999999999999> <t:-5>' },
  { name: 'escaped timestamp', input: '\\<t:1700000000>', expected: '<t:1700000000>' },
  {
    name: 'raw mentions without names',
    input: `<@${USER}> <@!${USER}> <@&${ROLE}> <#${CHANNEL}>`,
    expected: '@user @user @role #channel',
  },
  {
    name: 'raw mentions with names',
    input: `hi <@${USER}>, ask <@&${ROLE}> in <#${CHANNEL}>`,
    expected: 'hi @GM Sam, ask @Moderators in #rules',
    options: { mentions: names },
  },
  {
    name: 'a name with markup characters is written as it is',
    input: `thanks <@${USER}>`,
    expected: 'thanks @*Star*_',
    options: { mentions: { user: () => '*Star*_' } },
  },
  { name: 'slash command mention', input: `use </ticket close:${USER}>`, expected: 'use /ticket close' },
  { name: 'escaped markdown', input: '\\*not italic\\* \\_x\\_ \\|\\| a\\\\b', expected: '*not italic* _x_ || a\\b' },
  { name: 'escaped header', input: '\\# not a header', expected: '# not a header' },
  { name: 'a backslash before a letter stays', input: 'C:\\temp', expected: 'C:\\temp' },
  { name: 'line breaks and runs of spaces become one space', input: 'one\ntwo\r\nthree\n\n  four\tfive', expected: 'one two three four five' },
  { name: 'unicode emoji stay', input: 'thanks 😀 ❤️', expected: 'thanks 😀 ❤️' },
  {
    name: 'attachments after the text',
    input: '**see** file',
    expected: 'see file a.png (https://cdn.example/a.png) b.txt (https://cdn.example/b.txt)',
    options: { attachments: [{ name: 'a.png', url: 'https://cdn.example/a.png' }, { name: 'b.txt', url: 'https://cdn.example/b.txt' }] },
  },
  { name: 'only an attachment', input: '', expected: 'a.png (https://cdn.example/a.png)', options: { attachments: [{ name: 'a.png', url: 'https://cdn.example/a.png' }] } },
];

describe('discordToGameText', () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(discordToGameText(c.input, { timeZone: 'UTC', ...c.options }), c.expected);
    });
  }

  // Inputs that make a backtracking parser quadratic or worse. 200,000 characters, fifty times a
  // Discord message: a quadratic pass would take minutes, a linear one milliseconds.
  const hostile: [string, string, string][] = [
    ['opening stars', 'a *'.repeat(66_667), 'a *'.repeat(66_667)],
    ['opening brackets', '['.repeat(200_000), '['.repeat(200_000)],
    ['links without targets', '[a]('.repeat(50_000), '[a]('.repeat(50_000)],
    ['link targets never closed', '[a](https://x('.repeat(20_000), '[a](https://x('.repeat(20_000)],
    ['backtick runs of many lengths', Array.from({ length: 600 }, (_, i) => '`'.repeat(i + 1)).join(' '), Array.from({ length: 600 }, (_, i) => '`'.repeat(i + 1)).join(' ')],
    ['unfinished entities', '<t:1'.repeat(50_000), '<t:1'.repeat(50_000)],
    ['unfinished urls', '<https://a'.repeat(20_000), '<https://a'.repeat(20_000)],
    ['spoiler openers', '||a '.repeat(50_000), '||a '.repeat(50_000).trim()],
  ];
  for (const [name, input, expected] of hostile) {
    test(`linear time: ${name}`, () => {
      const started = performance.now();
      const output = discordToGameText(input, { timeZone: 'UTC' });
      const elapsed = performance.now() - started;
      assert.equal(output, expected);
      assert.ok(elapsed < 2000, `${Math.round(elapsed)} ms`);
    });
  }
});
