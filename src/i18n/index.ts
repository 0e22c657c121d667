// Everything a person reads, in their language (issue #16). One catalogue file a language in
// locales/ (flat keys, `{name}` placeholders, plural values as an object of Intl.PluralRules
// categories); adding a language is adding its file. locales/en.json is the reference: every other
// catalogue has exactly its keys (test/unit/i18n.test.ts), and its keys are the `MessageKey` type.
import fs from 'node:fs';
import path from 'node:path';
import type en from '../../locales/en.json';
import { PROJECT_ROOT } from '../paths.js';

export const LOCALES_DIR = path.join(PROJECT_ROOT, 'locales');
export const REFERENCE_LOCALE = 'en';

export type MessageKey = keyof typeof en;
export type Params = Record<string, string | number>;
/** A message chosen now and put into words later, in the reader's language. */
export interface Message {
  key: MessageKey;
  params?: Params;
}
export const message = (key: MessageKey, params?: Params): Message => (params ? { key, params } : { key });

type PluralValue = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type CatalogueValue = string | PluralValue;
export type Catalogue = Record<string, CatalogueValue>;

function loadCatalogues(): Map<string, Catalogue> {
  const catalogues = new Map<string, Catalogue>();
  for (const file of fs.readdirSync(LOCALES_DIR).sort()) {
    if (!file.endsWith('.json')) continue;
    const tag = file.slice(0, -'.json'.length);
    catalogues.set(tag, JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, file), 'utf8')) as Catalogue);
  }
  if (!catalogues.has(REFERENCE_LOCALE)) throw new Error(`locales/${REFERENCE_LOCALE}.json is missing`);
  return catalogues;
}

const CATALOGUES = loadCatalogues();

/** The languages there is a catalogue for, as BCP 47 tags (en, pt-BR, ...). */
export const LOCALES: readonly string[] = [...CATALOGUES.keys()];

export function catalogue(locale: string): Catalogue | undefined {
  return CATALOGUES.get(locale);
}

export function isMessageKey(text: string): text is MessageKey {
  return Object.hasOwn(CATALOGUES.get(REFERENCE_LOCALE) as Catalogue, text);
}

/** A supported locale with this tag, matched without regard to case (pt-br → pt-BR). */
export function supportedLocale(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag.length > 35) return undefined;
  const lower = tag.trim().toLowerCase().replace('_', '-');
  return LOCALES.find((l) => l.toLowerCase() === lower);
}

/**
 * The best supported locale for a language tag or an Accept-Language header: an exact tag first,
 * then the same language (es-MX → es, pt → pt-BR, in → id), highest q first.
 */
export function negotiateLocale(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.length === 0 || header.length > 1000) return undefined;
  const wanted = header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...rest] = part.trim().split(';');
      const q = rest.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((w) => w.tag && w.tag !== '*' && Number.isFinite(w.q) && w.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of wanted) {
    const exact = supportedLocale(tag);
    if (exact) return exact;
    let language = tag.toLowerCase().split('-')[0] ?? '';
    if (language === 'in') language = 'id'; // the old code for Indonesian, still sent by some Android builds
    const sameLanguage = LOCALES.find((l) => l.toLowerCase().split('-')[0] === language);
    if (sameLanguage) return sameLanguage;
  }
  return undefined;
}

/** The language's own name for itself, for the language menus. */
export function localeName(locale: string): string {
  const own = CATALOGUES.get(locale)?.['language.name'];
  return typeof own === 'string' ? own : locale;
}

const PLACEHOLDER = /\{(\w+)\}/g;

export interface Translator {
  readonly locale: string;
  /** The text for `key` in this language, `{name}` filled from params; a `count` param picks the plural form. */
  t(key: MessageKey, params?: Params): string;
  /** A Message made earlier (an error, a flash, a system line) in this language. */
  text(message: Message, options?: TextOptions): string;
  /** A system line as stored (messages.event, JSON); `fallback` (its English body) when it is not one. */
  line(event: string | null, fallback: string, options?: TextOptions): string;
  /** A status's label: staff read `waiting_user` as "Waiting for the player", its owner as "Waiting for you". */
  status(status: string, options?: TextOptions): string;
  number(n: number): string;
  /** Date and time in the app's time zone, with the zone named. */
  dateTime(ms: number): string;
  date(ms: number): string;
  /** "3 minutes ago", "in 2 days". */
  relative(ms: number, now?: number): string;
  bytes(n: number): string;
}

export interface TextOptions {
  /** Read by staff: statuses are named from Support's side (`status.staff.*`). */
  staff?: boolean;
  /** Stored values as they are (`waiting_user`), not their labels: the English text kept for Discord and search. */
  raw?: boolean;
}

const translators = new Map<string, Translator>();

/** One translator per language and time zone, made once: its Intl formatters are reused. */
export function translator(locale: string, timeZone = 'UTC'): Translator {
  const tag = CATALOGUES.has(locale) ? locale : REFERENCE_LOCALE;
  const cacheKey = `${tag}\u0000${timeZone}`;
  let made = translators.get(cacheKey);
  if (!made) {
    made = makeTranslator(tag, timeZone);
    translators.set(cacheKey, made);
  }
  return made;
}

function makeTranslator(locale: string, timeZone: string): Translator {
  const own = CATALOGUES.get(locale) as Catalogue;
  const reference = CATALOGUES.get(REFERENCE_LOCALE) as Catalogue;
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const oneDecimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const dateTimes = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium', timeStyle: 'short' });
  const zoneName = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' });
  const dates = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium' });
  const relatives = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });

  const status = (value: string, options?: TextOptions): string => {
    const label = (options?.staff ? own[`status.staff.${value}`] : undefined) ?? own[`status.${value}`];
    return typeof label === 'string' ? label : value;
  };
  const fill = (template: string, params: Params | undefined, options?: TextOptions): string =>
    params
      ? template.replace(PLACEHOLDER, (whole, name: string) => {
          const value = params[name];
          if (value === undefined) return whole;
          if (typeof value === 'number') return numbers.format(value);
          // A stored status or priority (a system line's `fromStatus`, `toPriority`) reads as its label.
          if (options?.raw) return value;
          if (name.endsWith('Status')) return status(value, options);
          if (name.endsWith('Priority')) {
            const label = own[`priority.${value}`];
            if (typeof label === 'string') return label;
          }
          return value;
        })
      : template;

  const t = (key: MessageKey, params?: Params, options?: TextOptions): string => {
    const value = own[key] ?? reference[key];
    if (value === undefined) return key;
    if (typeof value === 'string') return fill(value, params, options);
    const count = params?.count;
    const form = typeof count === 'number' ? plurals.select(count) : 'other';
    return fill(value[form] ?? value.other, params, options);
  };

  return {
    locale,
    t: (key, params) => t(key, params),
    text: (m, options) => t(m.key, m.params, options),
    status,
    line: (event, fallback, options) => {
      if (!event) return fallback;
      try {
        const m = JSON.parse(event) as Partial<Message>;
        if (typeof m.key !== 'string' || !Object.hasOwn(reference, m.key)) return fallback;
        const params = m.params && typeof m.params === 'object' ? (m.params as Params) : undefined;
        return t(m.key as MessageKey, params, options);
      } catch {
        return fallback;
      }
    },
    number: (n) => numbers.format(n),
    dateTime: (ms) => {
      const zone = zoneName.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value;
      return zone ? `${dateTimes.format(ms)} ${zone}` : dateTimes.format(ms);
    },
    date: (ms) => dates.format(ms),
    relative: (ms, now = Date.now()) => {
      const seconds = Math.round((ms - now) / 1000);
      const abs = Math.abs(seconds);
      if (abs < 60) return relatives.format(seconds, 'second');
      if (abs < 3600) return relatives.format(Math.round(seconds / 60), 'minute');
      if (abs < 86_400) return relatives.format(Math.round(seconds / 3600), 'hour');
      return relatives.format(Math.round(seconds / 86_400), 'day');
    },
    bytes: (n) => {
      if (n < 1024) return t('units.bytes', { count: n });
      if (n < 1024 * 1024) return t('units.kib', { size: oneDecimal.format(n / 1024) });
      return t('units.mib', { size: oneDecimal.format(n / (1024 * 1024)) });
    },
  };
}
