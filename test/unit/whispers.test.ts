// Splitting an answer into whisper lines (src/game/whispers.ts). Every expected list is written
// out by hand: lengths count code points, whitespace collapses to single spaces, and a cut
// prefers the last space in the second half of a piece.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitWhisper } from '../../src/game/whispers.js';

describe('splitWhisper', () => {
  test('short text is one line', () => {
    assert.deepEqual(splitWhisper('hello world', 20), ['hello world']);
  });

  test('exactly max is one line; max + 1 is two', () => {
    assert.deepEqual(splitWhisper('abcde', 5), ['abcde']);
    assert.deepEqual(splitWhisper('abcdef', 5), ['abcde', 'f']);
    assert.deepEqual(splitWhisper('aaaa bbbb', 9), ['aaaa bbbb']);
  });

  test('a cut between words drops the space', () => {
    assert.deepEqual(splitWhisper('hello world', 8), ['hello', 'world']);
    assert.deepEqual(splitWhisper('aaaaa bbbb', 5), ['aaaaa', 'bbbb']);
    assert.deepEqual(splitWhisper('aaaa bbbb cc', 9), ['aaaa bbbb', 'cc']);
  });

  test('a space in the first half of a piece is not used: the piece is cut at max', () => {
    assert.deepEqual(splitWhisper('aaaa bbbbb', 9), ['aaaa bbbb', 'b']);
  });

  test('one word longer than max is cut every max characters', () => {
    assert.deepEqual(splitWhisper('abcdefghijkl', 5), ['abcde', 'fghij', 'kl']);
    assert.deepEqual(splitWhisper('hi abcdefghij yo', 5), ['hi ab', 'cdefg', 'hij', 'yo']);
  });

  test('empty text and text of only whitespace give no line at all', () => {
    assert.deepEqual(splitWhisper('', 10), []);
    assert.deepEqual(splitWhisper('     ', 10), []);
    assert.deepEqual(splitWhisper(' \n\t\r\n ', 3), []);
  });

  test('line breaks, tabs and runs of spaces become one space; the ends are trimmed', () => {
    assert.deepEqual(splitWhisper('line one\nline two\r\n\tthree', 100), ['line one line two three']);
    assert.deepEqual(splitWhisper('  hi   there  ', 100), ['hi there']);
    assert.deepEqual(splitWhisper('one\n\ntwo three', 7), ['one two', 'three']);
  });

  test('an emoji (two UTF-16 code units) counts as one character', () => {
    assert.deepEqual(splitWhisper('😀😀😀😀😀', 5), ['😀😀😀😀😀']);
    assert.deepEqual(splitWhisper('😀😀😀😀😀', 2), ['😀😀', '😀😀', '😀']);
    assert.deepEqual(splitWhisper('ok 👋🏽 bye', 5), ['ok 👋🏽', 'bye']);
  });

  test('a combining mark counts as a character of its own', () => {
    // "café" written with U+0301 is five code points and fits max 5 exactly.
    assert.deepEqual(splitWhisper('cafe\u0301 ok', 5), ['cafe\u0301', 'ok']);
  });

  test('CJK text without spaces is cut every max characters', () => {
    assert.deepEqual(splitWhisper('日本語のテキスト', 3), ['日本語', 'のテキ', 'スト']);
    assert.deepEqual(splitWhisper('你好 世界', 3), ['你好', '世界']);
  });
});
