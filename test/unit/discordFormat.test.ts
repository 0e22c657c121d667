// How a player's message is written into a ticket channel (src/discord/format.ts) and split at
// Discord's 2000 characters (src/discord/naming.ts). Expected strings are written out by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discordName, formatPlayerPost } from '../../src/discord/format.js';
import { splitForDiscord } from '../../src/discord/naming.js';

describe('formatPlayerPost', () => {
  test('a plain message: the name line, then the text quoted', () => {
    assert.equal(formatPlayerPost('Sword Master', 'My sword vanished'), '**Sword Master** (in game):\n> My sword vanished');
  });

  test('a forged staff answer, header, subtext, list, quote, masked link and code fence stay quoted text', () => {
    const forged = [
      'thanks',
      '**Support**: your refund is approved',
      '# Refund approved',
      '## Step 2',
      '-# sent by Support',
      '- item',
      '* star',
      '+ plus',
      '1. first',
      '> quoted',
      '>>> all the rest',
      '[click here](https://evil.example/x) and [again](https://evil.example/y)',
      '```',
      'code',
      '```',
      '`inline` __under__ _it_ ~~gone~~ ||spoiler|| back\\slash',
      '@everyone <@400000000000000001> <@&123456789012345678> <#123456789012345678> <t:1700000000:R>',
      '   # indented header',
    ].join('\n');
    assert.equal(
      formatPlayerPost('Mallory', forged),
      [
        '**Mallory** (in game):',
        '> thanks',
        '> \\*\\*Support\\*\\*: your refund is approved',
        '> \\# Refund approved',
        '> \\## Step 2',
        '> \\-# sent by Support',
        '> \\- item',
        '> \\* star',
        '> \\+ plus',
        '> 1\\. first',
        '> \\> quoted',
        '> \\>>> all the rest',
        '> \\[click here](https://evil.example/x) and \\[again](https://evil.example/y)',
        '> \\`\\`\\`',
        '> code',
        '> \\`\\`\\`',
        '> \\`inline\\` \\_\\_under\\_\\_ \\_it\\_ \\~\\~gone\\~\\~ \\|\\|spoiler\\|\\| back\\\\slash',
        '> @everyone \\<@400000000000000001> \\<@&123456789012345678> \\<#123456789012345678> \\<t:1700000000:R>',
        '>    \\# indented header',
      ].join('\n'),
    );
  });

  test('every kind of line break starts a new quoted line; control characters go; blank lines stay quoted', () => {
    assert.equal(
      formatPlayerPost('Eve', 'a\r\nb\rc\u2028d\u2029e\u0085f\n\n**Support**: g\u0007\u001b[31m'),
      '**Eve** (in game):\n> a\n> b\n> c\n> d\n> e\n> f\n> \n> \\*\\*Support\\*\\*: g\\[31m',
    );
  });

  test('the name is one line with its markdown escaped', () => {
    assert.equal(discordName('**GM**\n# Support [x](https://e)'), '\\*\\*GM\\*\\* # Support \\[x](https://e)');
    assert.equal(formatPlayerPost('a_b\u2028c', 'hi'), '**a\\_b c** (in game):\n> hi');
    assert.equal(formatPlayerPost('  \n ', 'hi'), '**Player** (in game):\n> hi');
  });

  test('posts joined with a line break (the worker coalescing them) stay apart', () => {
    const joined = [formatPlayerPost('Ann', 'one\n**Support**: ok'), formatPlayerPost('Ann', 'two')].join('\n');
    assert.equal(joined, '**Ann** (in game):\n> one\n> \\*\\*Support\\*\\*: ok\n**Ann** (in game):\n> two');
  });
});

describe('splitForDiscord keeps quoted lines quoted', () => {
  test('a quoted line cut at a space goes on quoted', () => {
    assert.deepEqual(splitForDiscord('**A** (in game):\n> aaaa bbbb cccc dddd', 30), ['**A** (in game):\n> aaaa bbbb', '> cccc dddd']);
  });

  test('a quoted line without spaces cut hard goes on quoted, and never between a backslash and what it escapes', () => {
    assert.deepEqual(splitForDiscord('> abcdefgh\\*ij', 11), ['> abcdefgh', '> \\*ij']);
    assert.deepEqual(splitForDiscord('> abcdefghijkl', 10), ['> abcdefgh', '> ijkl']);
  });

  test('a cut at a line break needs no extra quote; the space of a `> ` prefix is never the cut', () => {
    assert.deepEqual(splitForDiscord('> aaaaaa\n> bbbbbb', 12), ['> aaaaaa', '> bbbbbb']);
    assert.deepEqual(splitForDiscord('> aaaaaaaa\n> bbbbbbbbbbbb', 14), ['> aaaaaaaa', '> bbbbbbbbbbbb']);
  });

  test('unquoted text splits as before', () => {
    assert.deepEqual(splitForDiscord('aaaa bbbb cccc', 10), ['aaaa bbbb', 'cccc']);
    assert.deepEqual(splitForDiscord('short'), ['short']);
  });
});
