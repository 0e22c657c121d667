// The game server's bracket form (README.md "The game-server API"):
//   [action: ticket][via: pm][account_id: 2000001][char_id: 150001][name: Player Name][message: text]
// with optional fields before the message: [request_id: srv1-000123], [lang: es] (the player's
// language; src/game/api.ts reads it, and ignores a tag it has no catalogue for).
// Values are text up to the field's closing `]`; `message` comes last and runs to the final `]`,
// so a player may type brackets. Numbers stay strings here; the one zod schema decides.
// A field given twice is refused (400). Everything after `[message: ` is the player's text, so a
// "field" written after the message is message text, not a second field: a player who types
// `][request_id: x][char_id: 1` cannot add or override a field. The game server must put
// request_id (and every other field) before the message.

export class BracketFormError extends Error {}

export function parseBracketForm(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const body = text.trim();
  let at = 0;
  while (at < body.length) {
    const open = /^\s*\[([a-z_]+):[ ]?/i.exec(body.slice(at));
    if (!open) throw new BracketFormError(`expected "[key: value]" at character ${at + 1}`);
    const key = open[1]!.toLowerCase();
    const start = at + open[0].length;
    let end: number;
    if (key === 'message') {
      end = body.lastIndexOf(']');
      if (end < start) throw new BracketFormError('[message: ...] is not closed with "]"');
    } else {
      end = body.indexOf(']', start);
      if (end === -1) throw new BracketFormError(`[${key}: ...] is not closed with "]"`);
    }
    if (Object.hasOwn(fields, key)) throw new BracketFormError(`field ${key} is given twice`);
    // Not `fields[key] = ...`: for `__proto__` that sets the prototype (a string is ignored) and the
    // field vanished, where the strict schema must see it and refuse it like any unknown key.
    Object.defineProperty(fields, key, { value: body.slice(start, end), enumerable: true, writable: true, configurable: true });
    at = end + 1;
  }
  if (Object.keys(fields).length === 0) throw new BracketFormError('empty body');
  return fields;
}
