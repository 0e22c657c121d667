// Splitting an answer into whisper lines (src/tickets/whispers.ts). Every expected list is written
// out by hand: lengths count code points, whitespace collapses to single spaces, and a cut
// prefers the last space in the second half of a piece.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitWhisper } from '../../src/tickets/whispers.js';

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

  // GAME_WHISPER_MAX counts bytes in GAME_TEXT_ENCODING (UTF-8 unless said otherwise).
  test('an emoji is 4 bytes in UTF-8 and is never cut', () => {
    assert.deepEqual(splitWhisper('😀😀😀😀😀', 20), ['😀😀😀😀😀']);
    assert.deepEqual(splitWhisper('😀😀😀😀😀', 8), ['😀😀', '😀😀', '😀']);
    assert.deepEqual(splitWhisper('😀😀😀', 7), ['😀', '😀', '😀']);
    assert.deepEqual(splitWhisper('ok 👋🏽 bye', 11), ['ok 👋🏽', 'bye']);
  });

  test('a letter keeps its combining accent', () => {
    // "café" written with U+0301: c a f (1 byte each) and e + U+0301 (1 + 2 bytes).
    assert.deepEqual(splitWhisper('cafe\u0301 ok', 6), ['cafe\u0301', 'ok']);
    assert.deepEqual(splitWhisper('cafe\u0301', 5), ['caf', 'e\u0301']);
  });

  test('CJK text is 3 bytes a character in UTF-8', () => {
    assert.deepEqual(splitWhisper('日本語のテキスト', 9), ['日本語', 'のテキ', 'スト']);
    assert.deepEqual(splitWhisper('你好 世界', 9), ['你好', '世界']);
  });
});

describe('splitWhisper in a legacy code page', () => {
  test('GBK: two bytes a character, never cut in half', () => {
    assert.deepEqual(splitWhisper('中文字符', 5, 'gbk'), ['中文', '字符']);
    assert.deepEqual(splitWhisper('中文字符', 4, 'gbk'), ['中文', '字符']);
  });

  test('cp1251: Cyrillic is one byte a letter', () => {
    assert.deepEqual(splitWhisper('Привет мир', 10, 'cp1251'), ['Привет мир']);
    assert.deepEqual(splitWhisper('Привет мир', 8, 'cp1251'), ['Привет', 'мир']);
  });

  test('what the code page cannot carry: emoji dropped, accents to base letters, the rest ?', () => {
    assert.deepEqual(splitWhisper('Hi 😀 there', 50, 'cp1252'), ['Hi there']);
    assert.deepEqual(splitWhisper('thumbs 👍🏽 up', 50, 'cp1252'), ['thumbs up']);
    assert.deepEqual(splitWhisper('café crème', 50, 'cp1252'), ['café crème']);
    assert.deepEqual(splitWhisper('café', 50, 'cp1251'), ['cafe']);
    assert.deepEqual(splitWhisper('Ωmega 你', 50, 'cp1252'), ['?mega ?']);
    assert.deepEqual(splitWhisper('สวัสดี', 50, 'cp874'), ['สวัสดี']);
  });
});
