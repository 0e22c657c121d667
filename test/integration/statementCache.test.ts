// The prepared-statement cache of src/db/index.ts is bounded: the ticket search and the audit
// filters build their SQL from the filters chosen, so an unbounded cache would grow with every new
// combination a user tries (issue #13). The least recently used statements make room.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase, prepared, preparedSql, STATEMENT_CACHE_SIZE, statementCacheSize } from '../../src/db/index.js';

test('preparing more distinct statements than the cache holds keeps it at its size, most recently used first', () => {
  const { db } = openDatabase(':memory:');
  try {
    const hot = 'SELECT COUNT(*) AS n FROM tickets';
    const hotStatement = prepared(db, hot);
    const firstCold = prepared(db, 'SELECT 0 AS n');
    for (let i = 1; i < STATEMENT_CACHE_SIZE + 100; i += 1) {
      assert.equal((prepared(db, `SELECT ${i} AS n`).get() as { n: number }).n, i);
      // The hot statement is used all along, as the ticket list is between varied searches.
      assert.equal(prepared(db, hot), hotStatement);
    }
    assert.equal(statementCacheSize(db), STATEMENT_CACHE_SIZE);
    assert.equal(prepared(db, hot), hotStatement, 'the statement used last is still cached');
    const lastCold = `SELECT ${STATEMENT_CACHE_SIZE + 99} AS n`;
    assert.equal(prepared(db, lastCold), prepared(db, lastCold));
    assert.notEqual(prepared(db, 'SELECT 0 AS n'), firstCold, 'the least recently used statement was dropped');
    assert.equal(statementCacheSize(db), STATEMENT_CACHE_SIZE);
    // The record tests read the query plans from still lists every SQL text, evicted ones too.
    const seen = preparedSql(db);
    assert.ok(seen.includes('SELECT 1 AS n') && seen.includes(hot) && seen.includes(lastCold));
  } finally {
    db.close();
  }
});
