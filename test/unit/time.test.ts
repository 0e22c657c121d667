// Where a calendar day starts in a time zone (src/time.ts): local midnight, the first instant after
// a gap when midnight is skipped, and the first of the two midnights when it happens twice. The
// expected instants are written out by hand from the zones' rules (tzdata as bundled with Node 20).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dayRange, startOfDay } from '../../src/time.js';

function start(ymd: string, timeZone: string): string {
  const [year, month, day] = ymd.split('-').map(Number) as [number, number, number];
  return new Date(startOfDay(year, month, day, timeZone)).toISOString();
}

describe('startOfDay where daylight saving starts at midnight (00:00 becomes 01:00)', () => {
  test('America/Santiago: 2025-09-07 starts at 01:00 -03', () => {
    assert.equal(start('2025-09-07', 'America/Santiago'), '2025-09-07T04:00:00.000Z');
    assert.equal(start('2024-09-08', 'America/Santiago'), '2024-09-08T04:00:00.000Z');
    // The days either side are ordinary: midnight -04 before, midnight -03 after.
    assert.equal(start('2025-09-06', 'America/Santiago'), '2025-09-06T04:00:00.000Z');
    assert.equal(start('2025-09-08', 'America/Santiago'), '2025-09-08T03:00:00.000Z');
  });

  test('America/Asuncion: 2023-10-01 and 2024-10-06 start at 01:00 -03', () => {
    assert.equal(start('2023-10-01', 'America/Asuncion'), '2023-10-01T04:00:00.000Z');
    assert.equal(start('2024-10-06', 'America/Asuncion'), '2024-10-06T04:00:00.000Z');
    assert.equal(start('2024-10-05', 'America/Asuncion'), '2024-10-05T04:00:00.000Z');
  });

  test('America/Havana: 2025-03-09 starts at 01:00 -04', () => {
    assert.equal(start('2025-03-09', 'America/Havana'), '2025-03-09T05:00:00.000Z');
    assert.equal(start('2025-03-08', 'America/Havana'), '2025-03-08T05:00:00.000Z');
    assert.equal(start('2025-03-10', 'America/Havana'), '2025-03-10T04:00:00.000Z');
  });

  test('Atlantic/Azores: 2025-03-30 starts at 01:00 +00', () => {
    assert.equal(start('2025-03-30', 'Atlantic/Azores'), '2025-03-30T01:00:00.000Z');
    assert.equal(start('2025-03-29', 'Atlantic/Azores'), '2025-03-29T01:00:00.000Z');
    assert.equal(start('2025-03-31', 'Atlantic/Azores'), '2025-03-31T00:00:00.000Z');
  });

  test('the skipped day is 23 hours long in the date filters', () => {
    assert.deepEqual(dayRange('2025-09-07', '2025-09-07', 'America/Santiago'), {
      start: Date.parse('2025-09-07T04:00:00Z'),
      end: Date.parse('2025-09-08T03:00:00Z'),
    });
    // And the day before ends where the skipped day starts: no hour is lost between the two.
    assert.equal(dayRange(undefined, '2025-03-29', 'Atlantic/Azores').end, Date.parse('2025-03-30T01:00:00Z'));
  });
});

describe('startOfDay where daylight saving ends', () => {
  test('00:00 happens twice (01:00 becomes 00:00): the day starts at the first one', () => {
    // Atlantic/Azores 2025-10-26: 00:00 +00 (00:00Z), then 01:00 +00 turns back into 00:00 -01 (01:00Z).
    assert.equal(start('2025-10-26', 'Atlantic/Azores'), '2025-10-26T00:00:00.000Z');
    assert.equal(start('2025-10-27', 'Atlantic/Azores'), '2025-10-27T01:00:00.000Z');
    // America/Havana 2025-11-02: 00:00 -04 (04:00Z), then 01:00 -04 turns back into 00:00 -05 (05:00Z).
    assert.equal(start('2025-11-02', 'America/Havana'), '2025-11-02T04:00:00.000Z');
    assert.equal(start('2025-11-03', 'America/Havana'), '2025-11-03T05:00:00.000Z');
    assert.deepEqual(dayRange('2025-11-02', '2025-11-02', 'America/Havana'), {
      start: Date.parse('2025-11-02T04:00:00Z'),
      end: Date.parse('2025-11-03T05:00:00Z'),
    });
  });

  test('23:00 happens twice (24:00 becomes 23:00): the next midnight happens once', () => {
    // America/Santiago 2025-04-05 has 25 hours; 2025-04-06 starts at 00:00 -04.
    assert.equal(start('2025-04-05', 'America/Santiago'), '2025-04-05T03:00:00.000Z');
    assert.equal(start('2025-04-06', 'America/Santiago'), '2025-04-06T04:00:00.000Z');
  });

  test('Europe/Berlin changes at 02:00/03:00, away from midnight', () => {
    assert.equal(start('2025-03-30', 'Europe/Berlin'), '2025-03-29T23:00:00.000Z');
    assert.equal(start('2025-03-31', 'Europe/Berlin'), '2025-03-30T22:00:00.000Z');
    assert.equal(start('2025-10-26', 'Europe/Berlin'), '2025-10-25T22:00:00.000Z');
    assert.equal(start('2025-10-27', 'Europe/Berlin'), '2025-10-26T23:00:00.000Z');
  });
});

describe('startOfDay on ordinary days', () => {
  test('zones without daylight saving', () => {
    assert.equal(start('2025-06-15', 'UTC'), '2025-06-15T00:00:00.000Z');
    assert.equal(start('2024-02-29', 'UTC'), '2024-02-29T00:00:00.000Z');
    assert.equal(start('2025-01-01', 'Asia/Tokyo'), '2024-12-31T15:00:00.000Z');
    assert.equal(start('2025-07-01', 'Asia/Tokyo'), '2025-06-30T15:00:00.000Z');
  });

  test('zones with daylight saving, on days without a change', () => {
    assert.equal(start('2025-01-15', 'Europe/Berlin'), '2025-01-14T23:00:00.000Z');
    assert.equal(start('2025-07-15', 'Europe/Berlin'), '2025-07-14T22:00:00.000Z');
    assert.equal(start('2025-01-15', 'America/Santiago'), '2025-01-15T03:00:00.000Z');
    assert.equal(start('2025-07-15', 'America/Santiago'), '2025-07-15T04:00:00.000Z');
    assert.equal(start('2025-07-15', 'America/Havana'), '2025-07-15T04:00:00.000Z');
    assert.equal(start('2025-07-15', 'Atlantic/Azores'), '2025-07-15T00:00:00.000Z');
  });

  test('month and year ends roll over in dayRange', () => {
    assert.deepEqual(dayRange('2025-12-31', '2025-12-31', 'Asia/Tokyo'), {
      start: Date.parse('2025-12-30T15:00:00Z'),
      end: Date.parse('2025-12-31T15:00:00Z'),
    });
  });
});
