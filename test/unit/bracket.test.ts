// The game server's bracket form (src/game/bracket.ts). Every expected object and error is written
// out by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BracketFormError, parseBracketForm } from '../../src/game/bracket.js';

const refused = (text: string, message: string) => assert.throws(() => parseBracketForm(text), (err: unknown) => err instanceof BracketFormError && err.message === message);

describe('parseBracketForm', () => {
  test('the documented form: every field, numbers kept as text', () => {
    assert.deepEqual(parseBracketForm('[action: ticket][via: pm][account_id: 2000001][char_id: 150001][name: Player Name][message: text]'), {
      action: 'ticket',
      via: 'pm',
      account_id: '2000001',
      char_id: '150001',
      name: 'Player Name',
      message: 'text',
    });
  });

  test('one optional space after the colon; whitespace around and between fields; keys in any case', () => {
    assert.deepEqual(parseBracketForm('[via:pm]'), { via: 'pm' });
    assert.deepEqual(parseBracketForm('[via:  pm]'), { via: ' pm' });
    assert.deepEqual(parseBracketForm('  [action: ticket]\n [VIA: pm]  '), { action: 'ticket', via: 'pm' });
    assert.deepEqual(parseBracketForm('[via: ][name:]'), { via: '', name: '' });
  });

  test('brackets inside the message are message text; the message runs to the last "]"', () => {
    assert.deepEqual(parseBracketForm('[action: ticket][message: my [sword] is gone]'), { action: 'ticket', message: 'my [sword] is gone' });
    assert.deepEqual(parseBracketForm('[message: ]]'), { message: ']' });
    assert.deepEqual(parseBracketForm('[message: a [b: c] d]'), { message: 'a [b: c] d' });
  });

  test('a "field" written after the message is message text, not a field', () => {
    assert.deepEqual(parseBracketForm('[char_id: 7][message: hi][char_id: 1][request_id: x]'), { char_id: '7', message: 'hi][char_id: 1][request_id: x' });
    assert.deepEqual(parseBracketForm('[message: a][message: b]'), { message: 'a][message: b' });
  });

  test('line breaks and multi-code-unit characters are kept as they are', () => {
    assert.deepEqual(parseBracketForm('[name: 日本語 😀][message: line one\nline two é 👋🏽]'), { name: '日本語 😀', message: 'line one\nline two é 👋🏽' });
  });

  test('"]" in a field other than the message ends that field; the rest is refused', () => {
    refused('[name: Bob]by][message: hi]', 'expected "[key: value]" at character 12');
  });

  test('a missing "]" is refused', () => {
    refused('[action: ticket', '[action: ...] is not closed with "]"');
    refused('[message: hi', '[message: ...] is not closed with "]"');
    refused('[action: ticket][message: hi', '[message: ...] is not closed with "]"');
  });

  test('a field given twice is refused, whatever the case of its key', () => {
    refused('[via: pm][via: request][message: x]', 'field via is given twice');
    refused('[via: pm][VIA: request]', 'field via is given twice');
  });

  test('text that is not a field, before, between or after the fields, is refused', () => {
    refused('hello [via: pm]', 'expected "[key: value]" at character 1');
    refused('[via: pm] hello [message: x]', 'expected "[key: value]" at character 10');
    refused('[message: hi] junk', 'expected "[key: value]" at character 14');
    refused('[char-id: 1]', 'expected "[key: value]" at character 1');
    refused('[via pm]', 'expected "[key: value]" at character 1');
  });

  test('an empty body is refused', () => {
    refused('', 'empty body');
    refused('   \n ', 'empty body');
  });

  test('unknown keys are returned (the schema in src/game/api.ts refuses them), __proto__ included', () => {
    assert.deepEqual(parseBracketForm('[colour: red]'), { colour: 'red' });
    const fields = parseBracketForm('[__proto__: x][message: hi]');
    assert.deepEqual(Object.keys(fields), ['__proto__', 'message']);
    assert.equal(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value, 'x');
    assert.equal(Object.getPrototypeOf(fields), Object.prototype);
    refused('[__proto__: x][__proto__: y]', 'field __proto__ is given twice');
  });
});
