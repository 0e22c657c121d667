// Splitting a post at Discord's message limit (src/discord/naming.ts); the quoting rules have
// their own tests in test/unit/discordFormat.test.ts. Every expected list is written out by hand:
// lengths count code points, the last line break or space of the piece is the cut when it lies
// past half of max (and is then dropped), otherwise the piece is cut at max.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitForDiscord } from '../../src/discord/naming.js';

describe('splitForDiscord', () => {
  test('short text is one part; the default limit is 2000', () => {
    assert.deepEqual(splitForDiscord('hello'), ['hello']);
    assert.deepEqual(splitForDiscord('x'.repeat(2000)), ['x'.repeat(2000)]);
    assert.deepEqual(splitForDiscord('x'.repeat(2001)), ['x'.repeat(2000), 'x']);
  });

  test('exactly max is one part; max + 1 is two', () => {
    assert.deepEqual(splitForDiscord('aaaaaaaaaa', 10), ['aaaaaaaaaa']);
    assert.deepEqual(splitForDiscord('aaaaaaaaaaa', 10), ['aaaaaaaaaa', 'a']);
  });

  test('a cut at a space drops that space', () => {
    assert.deepEqual(splitForDiscord('aaaa bbbb cccc', 10), ['aaaa bbbb', 'cccc']);
    assert.deepEqual(splitForDiscord('aaaaaaaa bb', 10), ['aaaaaaaa', 'bb']);
  });

  test('one word longer than max is cut at max, even after a space in the first half', () => {
    assert.deepEqual(splitForDiscord('abcdefghijklmnopqrstuvwxy', 10), ['abcdefghij', 'klmnopqrst', 'uvwxy']);
    assert.deepEqual(splitForDiscord('hi xxxxxxxxxxxx', 10), ['hi xxxxxxx', 'xxxxx']);
  });

  test('line breaks: the last break of the piece is the cut and is dropped; other breaks stay', () => {
    assert.deepEqual(splitForDiscord('aaaaaa\nbbbbbbbb', 10), ['aaaaaa', 'bbbbbbbb']);
    assert.deepEqual(splitForDiscord('aaaa\nbbbb cc', 10), ['aaaa\nbbbb', 'cc']);
    assert.deepEqual(splitForDiscord('a\nb\nc', 10), ['a\nb\nc']);
  });

  test('empty text is one empty part; spaces only are kept, less the one the cut takes', () => {
    assert.deepEqual(splitForDiscord(''), ['']);
    assert.deepEqual(splitForDiscord('     ', 10), ['     ']);
    assert.deepEqual(splitForDiscord(' '.repeat(12), 10), [' '.repeat(9), '  ']);
  });

  test('an emoji (two UTF-16 code units) counts as one character', () => {
    assert.deepEqual(splitForDiscord('😀'.repeat(10), 10), ['😀'.repeat(10)]);
    assert.deepEqual(splitForDiscord('😀'.repeat(12), 10), ['😀'.repeat(10), '😀😀']);
    assert.deepEqual(splitForDiscord('😀😀😀 😀😀😀😀', 5), ['😀😀😀', '😀😀😀😀']);
  });

  test('a combining mark counts as a character of its own', () => {
    // "café" written with U+0301 is five code points.
    assert.deepEqual(splitForDiscord('cafe\u0301 noir', 5), ['cafe\u0301', 'noir']);
  });

  test('CJK text without spaces is cut at max', () => {
    assert.deepEqual(splitForDiscord('日本語テキスト', 3), ['日本語', 'テキス', 'ト']);
  });
});
