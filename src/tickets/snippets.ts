// Saved replies (issue #15 point 2): admins keep them (view=snippets, src/web/handlers/snippets.ts),
// staff answer with them from the console's reply form and with /ticket reply
// (src/discord/commands/ticketReply.ts). Each change writes one audit row. `fillSnippet` puts the
// ticket's values in place of the placeholders.
import { recordAudit, type AuditActor } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { deleteSnippetRow, insertSnippet, snippetById, updateSnippetRow, type Snippet } from '../db/snippets.js';
import type { Ticket } from '../db/tickets.js';

export const SNIPPET_NAME_MAX = 64;
export const SNIPPET_BODY_MAX = 4000;

export type SnippetField = 'name' | 'body';

/** A change the rules refuse, with the field it is about. */
/** Why a saved reply was refused, for callers that put it into their reader's words. */
export type SnippetRefusal = 'required' | 'tooLong' | 'oneLine' | 'taken' | 'notFound';

export class SnippetError extends Error {
  constructor(
    readonly field: SnippetField | 'id',
    readonly reason: SnippetRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'SnippetError';
  }
}

export interface SnippetInput {
  name: string;
  body: string;
}

/** Who changes a snippet, and from where (the audit row's actor and ip). */
export interface SnippetChangeBy {
  actor: AuditActor;
  ip: string | null;
}

/** The input as stored (name trimmed, body with LF line breaks), or a SnippetError. */
export function checkSnippet(input: SnippetInput): SnippetInput {
  const name = input.name.trim();
  const body = input.body.replace(/\r\n?/g, '\n');
  if (name === '') throw new SnippetError('name', 'required', 'Name is required');
  if ([...name].length > SNIPPET_NAME_MAX) throw new SnippetError('name', 'tooLong', `Name must be at most ${SNIPPET_NAME_MAX} characters`);
  if (/[\n\r\u2028\u2029]/.test(name)) throw new SnippetError('name', 'oneLine', 'Name must be one line');
  if (body.trim() === '') throw new SnippetError('body', 'required', 'Text is required');
  if ([...body].length > SNIPPET_BODY_MAX) throw new SnippetError('body', 'tooLong', `Text must be at most ${SNIPPET_BODY_MAX} characters`);
  return { name, body };
}

function taken(name: string): SnippetError {
  return new SnippetError('name', 'taken', `A saved reply named "${name}" already exists`);
}

function audit(db: Db, by: SnippetChangeBy, action: string, details: Record<string, unknown>, now: number): void {
  recordAudit(db, { actor: by.actor, action, ip: by.ip, details }, now);
}

export function createSnippet(db: Db, input: SnippetInput, by: SnippetChangeBy, now = Date.now()): number {
  const checked = checkSnippet(input);
  return inTransaction(db, () => {
    const id = insertSnippet(db, checked, now);
    if (id === undefined) throw taken(checked.name);
    audit(db, by, 'snippet.create', { snippetId: id, name: checked.name }, now);
    return id;
  });
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function updateSnippet(db: Db, id: number, input: SnippetInput, by: SnippetChangeBy, now = Date.now()): void {
  const checked = checkSnippet(input);
  inTransaction(db, () => {
    const before = snippetById(db, id);
    if (!before) throw new SnippetError('id', 'notFound', 'No such saved reply');
    try {
      updateSnippetRow(db, id, checked, now);
    } catch (err) {
      if (isUniqueViolation(err)) throw taken(checked.name);
      throw err;
    }
    audit(db, by, 'snippet.update', { snippetId: id, name: { from: before.name, to: checked.name }, bodyChanged: before.body !== checked.body }, now);
  });
}

export function deleteSnippet(db: Db, id: number, by: SnippetChangeBy, now = Date.now()): Snippet {
  return inTransaction(db, () => {
    const before = snippetById(db, id);
    if (!before || !deleteSnippetRow(db, id)) throw new SnippetError('id', 'notFound', 'No such saved reply');
    audit(db, by, 'snippet.delete', { snippetId: id, name: before.name }, now);
    return before;
  });
}

export interface SnippetValues {
  player: string;
  staff: string;
  ticket: string;
}

/**
 * The body with `{player}`, `{staff}` and `{ticket}` replaced by the values as they are: a
 * replacer function, so `$&` or `$1` in a value stays literal. Other `{x}` stay as typed.
 */
export function fillSnippet(body: string, values: SnippetValues): string {
  return body.replace(/\{(player|staff|ticket)\}/g, (_match, key: keyof SnippetValues) => values[key]);
}

/** The placeholders' values for an answer to `ticket` by `staffName`: the character for a game ticket, else the owner. */
export function snippetValuesFor(ticket: Ticket, ownerName: string | undefined, staffName: string): SnippetValues {
  const player = ticket.source === 'game' && ticket.gameCharName ? ticket.gameCharName : (ownerName ?? '');
  return { player, staff: staffName, ticket: `#${ticket.id}` };
}
