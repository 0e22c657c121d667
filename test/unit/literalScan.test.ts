// Issue #16: no English left for a person to read outside the catalogues (locales/*.json). Scans the
// page templates (text between tags, human attributes, string literals inside EJS tags) and the web
// code (string literals that read as words), and checks every key a template names exists.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { catalogue, REFERENCE_LOCALE } from '../../src/i18n/index.js';
import { PROJECT_ROOT, VIEWS_DIR } from '../../src/paths.js';

function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full, ext) : e.name.endsWith(ext) ? [full] : [];
  });
}

/** Words a person could read: a letter run of two or more. The brand and units are names, not English. */
const WORD = /\p{L}{2,}/u;
const NAMES = new Set(['ticketbridge', 'tb', 'KiB', 'MiB', 'Discord', 'Telegram']);
const readable = (text: string) => text.split(/[^\p{L}]+/u).some((w) => WORD.test(w) && !NAMES.has(w));

/** Attributes a person reads or hears. */
const HUMAN_ATTRIBUTES = /\s(title|placeholder|aria-label|alt|data-confirm|aria-description|summary)="([^"]*)"/g;
/** A catalogue key as templates write it: dotted lower-camel words. */
const KEY = /^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9_-]+)+$/;
/** A string inside an EJS tag that reads as words: a capitalised word, or three words in a row. */
const LOOKS_ENGLISH = /\b[A-Z][a-z]{2,}\b|[a-z]{2,}[ ,]+[a-z]{2,}[ ,]+[a-z]{2,}/;

export function templateFindings(file: string, source: string): string[] {
  const findings: string[] = [];
  const where = (index: number) => `${path.relative(PROJECT_ROOT, file)}:${source.slice(0, index).split('\n').length}`;
  // String literals inside EJS tags that are not keys, markup or comments.
  for (const tag of source.matchAll(/<%([=\-_#]?)([\s\S]*?)[-_]?%>/g)) {
    if (tag[1] === '#') continue;
    for (const lit of tag[2]!.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
      const text = lit[1] ?? lit[2] ?? '';
      if (KEY.test(text) || /[=<>]/.test(text)) continue;
      if (LOOKS_ENGLISH.test(text)) findings.push(`${where(tag.index + lit.index)} literal in code: ${JSON.stringify(text)}`);
    }
  }
  const markup = source.replace(/<%[\s\S]*?%>/g, (m) => ' '.repeat(m.length));
  for (const attr of markup.matchAll(HUMAN_ATTRIBUTES)) {
    if (readable(attr[2]!)) findings.push(`${where(attr.index)} ${attr[1]}="${attr[2]!.trim()}"`);
  }
  const text = markup.replace(/<(script|style)[\s\S]*?<\/\1>/g, (m) => ' '.repeat(m.length)).replace(/<[^>]*>/g, (m) => ' '.repeat(m.length));
  for (const run of text.matchAll(/[^\s][^\n]*/g)) {
    const words = run[0].replace(/&[a-z]+;|&#\d+;/g, ' ');
    if (readable(words)) findings.push(`${where(run.index)} text: ${JSON.stringify(run[0].trim())}`);
  }
  return findings;
}

/** Calls whose strings are for operators or machines, not for people reading a page (the audit log's details are data). */
const NOT_FOR_PEOPLE = /^(?:.*\.)?(debug|info|warn|error|fatal|trace|prepared|prepare|exec|setHeader|set|type|Error|TypeError|RangeError|assert\w*|log|audit|recordAudit)$/;

/** A line that says why its text is not translated (e.g. the plain-text page of last resort when rendering failed). */
const EXEMPT = /i18n: not translated/;

export function codeFindings(file: string, source: string): string[] {
  const findings: string[] = [];
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const inQuietCall = (node: ts.Node): boolean => {
    for (let n = node.parent; n; n = n.parent) {
      if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
        const callee = n.expression.getText(sf);
        if (NOT_FOR_PEOPLE.test(callee)) return true;
      }
      if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return true;
    }
    return false;
  };
  const visit = (node: ts.Node) => {
    let text: string | undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node)) text = [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ');
    // Markup built in code is judged by its text, not its tags and attribute names.
    if (text !== undefined && text.includes('<')) text = text.replace(/<[^>]*>?/g, ' ');
    if (
      text !== undefined &&
      !KEY.test(text) &&
      /\p{Ll}{2,}[,.!?’':]*\s+\p{L}{2,}|\p{L}{2,}[,.!?’':]*\s+\p{Ll}{2,}/u.test(text) &&
      !/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE)\b/i.test(text) &&
      !inQuietCall(node) &&
      !EXEMPT.test(source.split('\n')[sf.getLineAndCharacterOfPosition(node.getStart(sf)).line] ?? '')
    ) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      findings.push(`${path.relative(PROJECT_ROOT, file)}:${line} ${JSON.stringify(text.slice(0, 80))}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings;
}

test('templates have no English of their own: every word a person reads comes from the catalogues', () => {
  const findings = filesUnder(VIEWS_DIR, '.ejs').flatMap((f) => templateFindings(f, fs.readFileSync(f, 'utf8')));
  assert.deepEqual(findings, []);
});

test('the web code has no English of its own for people: messages are catalogue keys', () => {
  const dirs = [path.join(PROJECT_ROOT, 'src', 'web')];
  const findings = dirs.flatMap((d) => filesUnder(d, '.ts')).flatMap((f) => codeFindings(f, fs.readFileSync(f, 'utf8')));
  assert.deepEqual(findings, []);
});

test('every key a template names is in the reference catalogue', () => {
  const reference = catalogue(REFERENCE_LOCALE)!;
  const missing: string[] = [];
  for (const file of filesUnder(VIEWS_DIR, '.ejs')) {
    for (const call of fs.readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([^']+)'/g)) {
      const key = call[1]!;
      // `t('ticket.reply.hint.' + status)`: a family of keys; at least one must exist.
      const found = key.endsWith('.') ? Object.keys(reference).some((k) => k.startsWith(key)) : Object.hasOwn(reference, key);
      if (!found) missing.push(`${path.relative(PROJECT_ROOT, file)}: ${key}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the scan finds English where it is (so a clean result means something)', () => {
  assert.equal(templateFindings('x.ejs', '<p>Create ticket</p>').length, 1);
  assert.equal(templateFindings('x.ejs', '<button title="Close it">x</button>').length, 1);
  assert.equal(templateFindings('x.ejs', "<%= staff ? 'Reply as Support' : 'Reply' %>").length, 2);
  assert.deepEqual(templateFindings('x.ejs', "<p class=\"muted\"><%= t('tickets.title') %> · #<%= id %></p><option<%= a ? ' selected' : '' %>>"), []);
  assert.equal(codeFindings('x.ts', "throw new HttpError(400, 'No such user.');").length, 1);
  assert.deepEqual(codeFindings('x.ts', "deps.logger.warn({ ip }, 'sign-in rate limit reached'); new HttpError(400, 'error.notFound');"), []);
});
