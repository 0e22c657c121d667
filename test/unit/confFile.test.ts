import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfFileError, confBoolean, parseConfBoolean, readConfFile } from '../../src/confFile.js';
import { tempDir } from '../helpers/app.js';

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function values(file: string): Record<string, string> {
  return Object.fromEntries([...readConfFile(file).entries].map(([key, entry]) => [key, entry.value]));
}

describe('readConfFile', () => {
  test('reads the block from seed 002 as written', () => {
    const dir = tempDir();
    const file = write(
      dir,
      'channels.conf',
      '// Ticket Support System (PM @Support or @request command)\n' +
        'ragnasync_ticket_support_system_enabled: true\n' +
        'ragnasync_ticket_support_system_close_on_logout: true\n',
    );
    assert.deepEqual(values(file), {
      ragnasync_ticket_support_system_enabled: 'true',
      ragnasync_ticket_support_system_close_on_logout: 'true',
    });
  });

  test('a missing file is no settings at all (defaults apply)', () => {
    const conf = readConfFile(path.join(tempDir(), 'nope.conf'));
    assert.equal(conf.entries.size, 0);
    assert.equal(confBoolean(conf, 'ragnasync_ticket_support_system_enabled', true), true);
  });

  test('comments, quotes, CRLF and trailing separators', () => {
    const dir = tempDir();
    const file = write(
      dir,
      'a.conf',
      '/* block\n   comment: not a key */\r\nname: "#support" // trailing comment\r\nurl: "http://x//y"\r\nflag: yes;\r\n\r\n',
    );
    assert.deepEqual(values(file), { name: '#support', url: 'http://x//y', flag: 'yes' });
    assert.equal(readConfFile(file).entries.get('flag')?.line, 5, 'line numbers survive block comments');
  });

  test('keys inside name: { ... } blocks are read too', () => {
    const dir = tempDir();
    const file = write(dir, 'a.conf', 'ragnasync: {\n  ragnasync_ticket_support_system_enabled: off\n  inner: {\n    deep: 1\n  }\n}\ntop: 2\n');
    assert.deepEqual(values(file), { ragnasync_ticket_support_system_enabled: 'off', deep: '1', top: '2' });
  });

  test('import: reads other files recursively, later values overriding earlier ones', () => {
    const dir = tempDir();
    write(dir, 'import/channels.conf', 'b: from-import\nc: from-import\nimport: deeper.conf\n');
    write(dir, 'import/deeper.conf', 'c: from-deeper\nd: deeper\n');
    const main = write(dir, 'channels.conf', 'a: main\nb: main\nimport: import/channels.conf\nd: main-after-import\n');
    assert.deepEqual(values(main), { a: 'main', b: 'from-import', c: 'from-deeper', d: 'main-after-import' });
    assert.equal(readConfFile(main).files.length, 3);
  });

  test('a missing import is skipped and reported; an import cycle is an error', () => {
    const dir = tempDir();
    const file = write(dir, 'a.conf', 'x: 1\nimport: conf/import/missing.conf\n');
    assert.deepEqual(readConfFile(file).missingImports, ['conf/import/missing.conf']);
    write(dir, 'b.conf', 'import: c.conf\n');
    write(dir, 'c.conf', 'import: b.conf\n');
    assert.throws(() => readConfFile(path.join(dir, 'b.conf')), /import cycle/);
  });

  test('malformed files throw a ConfFileError naming file and line', () => {
    const dir = tempDir();
    const cases: [string, RegExp][] = [
      ['a: 1\njust words\n', /a\.conf:2: expected "key: value"/],
      ['block: {\n a: 1\n', /never closed/],
      ['a: 1\n}\n', /a\.conf:2: '}' without a matching '{'/],
      ['/* open comment\n', /never closed/],
      ['import:\n', /a\.conf:1: import needs a file name/],
    ];
    for (const [text, pattern] of cases) {
      const file = write(dir, 'a.conf', text);
      assert.throws(() => readConfFile(file), (err: unknown) => err instanceof ConfFileError && pattern.test(err.message), text);
    }
  });
});

describe('booleans', () => {
  test('true/false/yes/no/on/off/1/0 in any case', () => {
    for (const word of ['true', 'YES', 'On', '1']) assert.equal(parseConfBoolean(word), true, word);
    for (const word of ['false', 'no', 'OFF', '0']) assert.equal(parseConfBoolean(word), false, word);
    for (const word of ['', 'maybe', '2', 'yes please']) assert.equal(parseConfBoolean(word), undefined, word);
  });

  test('confBoolean refuses anything else, naming the key and where it is', () => {
    const dir = tempDir();
    const file = write(dir, 'a.conf', '\nflag: perhaps\n');
    assert.throws(() => confBoolean(readConfFile(file), 'flag', true), /a\.conf:2: flag must be true\/false/);
  });
});
