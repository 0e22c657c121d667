// Reader for rAthena-style conf files such as conf/channels.conf (seed 002 § Configuration):
//
//   // Ticket Support System (PM @Support or @request command)
//   ragnasync_ticket_support_system_enabled: true
//   import: conf/import/channels.conf
//   ragnasync: {
//       ragnasync_ticket_support_system_close_on_logout: no
//   }
//
// Lines are `key: value`; `//` and `/* ... */` comments are ignored; `import: path` reads another
// file in place (later values override earlier ones, as rAthena does); keys inside a
// `name: { ... }` block are read as if they stood at the top level. Values keep their text;
// callers turn them into booleans or numbers with the helpers below.
import fs from 'node:fs';
import path from 'node:path';

export class ConfFileError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
    this.name = 'ConfFileError';
  }
}

export interface ConfEntry {
  value: string;
  file: string;
  line: number;
}

export interface ConfFile {
  /** Every key read, the last definition winning. */
  entries: Map<string, ConfEntry>;
  /** Files read, in order (the main file first). */
  files: string[];
  /** Imports that named a file that does not exist (rAthena skips those too). */
  missingImports: string[];
}

/**
 * Reads `file` and its imports. A missing main file gives an empty result (defaults apply);
 * a malformed file throws ConfFileError naming the file and line.
 */
export function readConfFile(file: string): ConfFile {
  const result: ConfFile = { entries: new Map(), files: [], missingImports: [] };
  if (!fs.existsSync(file)) return result;
  readInto(path.resolve(file), result, []);
  return result;
}

function readInto(file: string, result: ConfFile, stack: string[]): void {
  if (stack.includes(file)) {
    throw new ConfFileError(`import cycle: ${[...stack, file].join(' -> ')}`, file);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfFileError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, file);
  }
  result.files.push(file);
  const lines = stripBlockComments(text, file).split(/\r?\n/);
  let depth = 0;
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    let line = stripLineComment(raw).trim();
    if (line === '') return;
    // Closing braces (possibly several, possibly followed by `,` or `;` in libconfig style).
    while (line.startsWith('}')) {
      depth -= 1;
      if (depth < 0) throw new ConfFileError("'}' without a matching '{'", file, lineNo);
      line = line.slice(1).replace(/^[,;]/, '').trim();
    }
    if (line === '') return;
    const match = /^([A-Za-z0-9_.-]+)\s*:\s*(.*)$/.exec(line);
    if (!match) throw new ConfFileError(`expected "key: value", got ${JSON.stringify(raw.trim())}`, file, lineNo);
    const key = match[1] as string;
    let value = (match[2] as string).trim();
    if (value === '{' || value === '({') {
      depth += 1;
      return;
    }
    if (value.endsWith('{')) {
      throw new ConfFileError(`unexpected '{' after a value for "${key}"`, file, lineNo);
    }
    value = unquote(value.replace(/[;,]$/, '').trim());
    if (key === 'import') {
      if (value === '') throw new ConfFileError('import needs a file name', file, lineNo);
      const target = resolveImport(value, file);
      if (target === undefined) {
        result.missingImports.push(value);
        return;
      }
      readInto(target, result, [...stack, file]);
      return;
    }
    result.entries.set(key, { value, file, line: lineNo });
  });
  if (depth !== 0) throw new ConfFileError(`${depth} block(s) opened with '{' are never closed`, file);
}

// rAthena resolves imports from the server's working directory; a path relative to the
// importing file is accepted as well so a conf folder can be moved as a whole.
function resolveImport(value: string, fromFile: string): string | undefined {
  const candidates = path.isAbsolute(value)
    ? [value]
    : [path.resolve(value), path.resolve(path.dirname(fromFile), value)];
  return candidates.find((candidate) => fs.existsSync(candidate));
}

function stripBlockComments(text: string, file: string): string {
  // Keep newlines inside comments so reported line numbers stay right.
  return text.replace(/\/\*[\s\S]*?(\*\/|$)/g, (comment, end: string) => {
    if (end !== '*/') throw new ConfFileError("'/*' comment is never closed", file);
    return comment.replace(/[^\n]/g, ' ');
  });
}

function stripLineComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '/' && line[i + 1] === '/') {
      return line.slice(0, i);
    }
  }
  return line;
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
    return value.slice(1, -1);
  }
  return value;
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** true/false/yes/no/on/off/1/0 in any case; undefined for anything else. */
export function parseConfBoolean(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** Reads a boolean key, falling back to `fallback` when absent; throws when malformed. */
export function confBoolean(conf: ConfFile, key: string, fallback: boolean): boolean {
  const entry = conf.entries.get(key);
  if (!entry) return fallback;
  const parsed = parseConfBoolean(entry.value);
  if (parsed === undefined) {
    throw new ConfFileError(
      `${key} must be true/false/yes/no/on/off/1/0, got ${JSON.stringify(entry.value)}`,
      entry.file,
      entry.line,
    );
  }
  return parsed;
}
