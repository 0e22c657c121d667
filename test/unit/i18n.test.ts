// The catalogues (locales/*.json) stay complete and consistent: every key of the reference (en)
// in every language, no extra keys, every placeholder kept, every plural form the language needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogue, LOCALES, negotiateLocale, REFERENCE_LOCALE, supportedLocale, translator, type CatalogueValue } from '../../src/i18n/index.js';

const reference = catalogue(REFERENCE_LOCALE)!;
const placeholders = (value: CatalogueValue): string[] =>
  [...new Set((typeof value === 'string' ? [value] : Object.values(value)).flatMap((v) => [...(v ?? '').matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)))].sort();

test('the six languages the issue asks for have a catalogue', () => {
  for (const tag of ['en', 'pt-BR', 'es', 'id', 'th', 'ru']) assert.ok(LOCALES.includes(tag), tag);
});

for (const tag of LOCALES) {
  test(`${tag}: exactly the reference keys, the same placeholders, the plural forms the language has`, () => {
    const own = catalogue(tag)!;
    const missing = Object.keys(reference).filter((k) => !Object.hasOwn(own, k));
    const extra = Object.keys(own).filter((k) => !Object.hasOwn(reference, k));
    assert.deepEqual(missing, [], `${tag} lacks keys`);
    assert.deepEqual(extra, [], `${tag} has keys en does not`);
    // Spanish and Portuguese "many" is for millions ("1 millón de bytes"), which no count here
    // reaches; such a form falls back to "other".
    const categories = new Intl.PluralRules(tag).resolvedOptions().pluralCategories.filter((c) => !(c === 'many' && ['es', 'pt'].includes(tag.split('-')[0]!)));
    for (const [key, value] of Object.entries(own)) {
      const ref = reference[key]!;
      assert.equal(typeof value, typeof ref, `${tag} ${key}: plural in one, not the other`);
      assert.deepEqual(placeholders(value), placeholders(ref), `${tag} ${key}: placeholders differ from en`);
      if (typeof value === 'object') {
        for (const c of categories) assert.ok(typeof value[c] === 'string' && value[c] !== '', `${tag} ${key}: plural form "${c}" missing`);
      } else {
        assert.notEqual(value.trim(), '', `${tag} ${key} is empty`);
      }
    }
  });
}

test('Accept-Language picks the best catalogue: exact tag, then the same language, by q', () => {
  assert.equal(negotiateLocale('pt-BR,pt;q=0.9,en;q=0.8'), 'pt-BR');
  assert.equal(negotiateLocale('pt-PT'), 'pt-BR');
  assert.equal(negotiateLocale('es-MX,es;q=0.9'), 'es');
  assert.equal(negotiateLocale('de-DE,ru;q=0.5,en;q=0.4'), 'ru');
  assert.equal(negotiateLocale('en;q=0.1, th;q=0.9'), 'th');
  assert.equal(negotiateLocale('in-ID'), 'id');
  assert.equal(negotiateLocale('de, fr'), undefined);
  assert.equal(negotiateLocale('*'), undefined);
  assert.equal(supportedLocale('PT-br'), 'pt-BR');
  assert.equal(supportedLocale('xx'), undefined);
});

test('plurals follow the language: Russian has one, few and many', () => {
  const ru = translator('ru');
  assert.equal(ru.t('units.bytes', { count: 1 }), '1 байт');
  assert.equal(ru.t('units.bytes', { count: 3 }), '3 байта');
  assert.equal(ru.t('units.bytes', { count: 5 }), '5 байт');
  assert.equal(translator('en').t('units.bytes', { count: 1 }), '1 byte');
});

test('dates carry their zone and numbers are written the language\'s way', () => {
  const at = Date.UTC(2026, 0, 15, 13, 5);
  const ru = translator('ru', 'Europe/Moscow');
  assert.match(ru.dateTime(at), /16:05/);
  assert.match(ru.dateTime(at), /МСК|GMT\+3/);
  assert.equal(translator('pt-BR').number(1234567), '1.234.567');
  assert.equal(translator('en').number(1234567), '1,234,567');
});
