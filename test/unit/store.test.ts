import { describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { withStatementCache } from '../../src/store/db.js';

// The repositories' behaviour is the Store contract: test/contract/store-contract.ts, run by test/contract/store.test.ts.

describe('statement cache', () => {
  it('prepares each SQL text once, and gives a busy statement (a select being iterated) no second user', () => {
    const sqlite = new SQLite(':memory:');
    try {
      const db = withStatementCache(sqlite);
      sqlite.exec('CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2)');
      const select = db.prepare('SELECT n FROM t ORDER BY n');
      expect(db.prepare('SELECT n FROM t ORDER BY n')).toBe(select);
      const rows = select.iterate([]);
      expect(rows.next().value).toEqual({ n: 1 });
      const meanwhile = db.prepare('SELECT n FROM t ORDER BY n');
      expect(meanwhile).not.toBe(select);
      expect(meanwhile.all([])).toEqual([{ n: 1 }, { n: 2 }]);
      expect(rows.next().value).toEqual({ n: 2 });
      expect(rows.next().done).toBe(true);
      expect(db.prepare('SELECT n FROM t ORDER BY n')).toBe(select);
    } finally {
      sqlite.close();
    }
  });
});
