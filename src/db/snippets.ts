// The snippets table (migrations/007_snippets.sql): saved replies, by id or by name (any case).
import { prepared, type Db } from './index.js';

export interface Snippet {
  id: number;
  name: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = 'id, name, body, created_at AS createdAt, updated_at AS updatedAt';

/** Every snippet, by name. */
export function snippets(db: Db): Snippet[] {
  return prepared(db, `SELECT ${COLUMNS} FROM snippets ORDER BY name COLLATE NOCASE, id`).all() as Snippet[];
}

export function snippetById(db: Db, id: number): Snippet | undefined {
  return prepared(db, `SELECT ${COLUMNS} FROM snippets WHERE id = ?`).get(id) as Snippet | undefined;
}

/** The snippet of that name, whatever its case. */
export function snippetByName(db: Db, name: string): Snippet | undefined {
  return prepared(db, `SELECT ${COLUMNS} FROM snippets WHERE name = ?`).get(name) as Snippet | undefined;
}

/** Up to `limit` names containing `typed` (any case; LIKE's wildcards in it are taken literally), by name. */
export function snippetNamesLike(db: Db, typed: string, limit: number): string[] {
  const pattern = `%${typed.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = prepared(db, "SELECT name FROM snippets WHERE name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE LIMIT ?").all(pattern, limit) as { name: string }[];
  return rows.map((row) => row.name);
}

/** The new id, or undefined when the name is taken. */
export function insertSnippet(db: Db, input: { name: string; body: string }, now: number): number | undefined {
  const result = prepared(db, 'INSERT INTO snippets (name, body, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING').run(input.name, input.body, now, now);
  return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
}

/** Whether the row changed; throws SQLITE_CONSTRAINT_UNIQUE when another snippet has the name. */
export function updateSnippetRow(db: Db, id: number, input: { name: string; body: string }, now: number): boolean {
  return prepared(db, 'UPDATE snippets SET name = ?, body = ?, updated_at = ? WHERE id = ?').run(input.name, input.body, now, id).changes === 1;
}

export function deleteSnippetRow(db: Db, id: number): boolean {
  return prepared(db, 'DELETE FROM snippets WHERE id = ?').run(id).changes === 1;
}
