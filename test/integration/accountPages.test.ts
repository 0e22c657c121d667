// Issue #16 on the account pages: the account's own language (view=settings) wins over ?lang=, the
// cookie and Accept-Language, and follows the account across sign-ins; the sign-in page says how to
// get an account and what to do about a lost password; settings errors are summarised at the top.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { userByUsername } from '../../src/db/users.js';
import { addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';

let app: TestApp;

before(async () => {
  app = await startApp();
  await addUser(app.db, 'polyglot');
  await addUser(app.db, 'summarised');
});
after(() => app.close());

const lang = (html: string) => /<html lang="([^"]+)"/.exec(html)?.[1];

async function postSettings(client: Client, action: string, fields: Record<string, string>) {
  const _csrf = csrfFrom((await client.get('/index.php?view=settings')).text)!;
  return client.post(`/index.php?view=settings&action=${action}`, { _csrf, ...fields });
}

describe('the account language', () => {
  test('settings offer "Same as my browser" and every language by its own name', async () => {
    const client = new Client(app.url);
    await client.login('polyglot');
    const page = await client.get('/index.php?view=settings');
    assert.match(page.text, /<select id="locale" name="locale">\s*<option value="" selected>Same as my browser<\/option>/);
    for (const [tag, name] of [['en', 'English'], ['pt-BR', 'Português'], ['es', 'Español'], ['id', 'Bahasa Indonesia'], ['th', 'ไทย'], ['ru', 'Русский']]) {
      assert.match(page.text, new RegExp(`<option value="${tag}" lang="${tag}">${name}`), tag);
    }
  });

  test('the choice wins over Accept-Language and ?lang=, says so in the new language, and is audited', async () => {
    const client = new Client(app.url, { 'accept-language': 'ru' });
    await client.login('polyglot');
    assert.equal(lang((await client.get('/index.php?view=settings')).text), 'ru', 'the browser decides until the account does');
    const saved = await postSettings(client, 'language', { locale: 'es' });
    assert.equal(saved.status, 303);
    assert.equal(userByUsername(app.db, 'polyglot')!.locale, 'es');
    const page = await client.get(saved.location!);
    assert.equal(lang(page.text), 'es');
    assert.match(page.text, /data-flash>Idioma guardado: Español\./, 'the confirmation is in the new language');
    assert.match(page.text, /<option value="es" lang="es" selected>/);
    assert.equal(lang((await client.get('/index.php?view=tickets&lang=th')).text), 'es', '?lang= does not override the account');
    assert.equal(lang((await client.get('/index.php?view=settings')).text), 'es', 'nor the cookie ?lang= left');
    const row = recentAuditRows(app.db, 5).find((r) => r.action === 'user.locale');
    assert.ok(row, 'audited');
    assert.match(row.details ?? '', /"to":"es"/);
  });

  test('the choice follows the account across sign-out and sign-in, in another browser too', async () => {
    const first = new Client(app.url, { 'accept-language': 'en' });
    await first.login('polyglot');
    const _csrf = csrfFrom((await first.get('/index.php?view=settings')).text)!;
    assert.equal((await first.post('/index.php?view=logout', { _csrf })).status, 303);
    const elsewhere = new Client(app.url, { 'accept-language': 'pt-BR,pt;q=0.9' });
    assert.equal(lang((await elsewhere.get('/index.php?view=login')).text), 'pt-BR', 'signed out: the browser');
    await elsewhere.login('polyglot');
    assert.equal(lang((await elsewhere.get('/index.php?view=tickets')).text), 'es', 'signed in: the account');
  });

  test('an unknown language is refused next to the field (422), nothing changes', async () => {
    const client = new Client(app.url, { 'accept-language': 'en' });
    await client.login('polyglot');
    for (const locale of ['xx', 'de', 'es<script>', 'es,ru']) {
      const reply = await postSettings(client, 'language', { locale });
      assert.equal(reply.status, 422, locale);
      assert.match(reply.text, /id="locale-error">Elige uno de los idiomas de la lista\./, 'inline, in the account language');
      assert.match(reply.text, /<select id="locale" name="locale" aria-invalid="true" aria-describedby="locale-error">/);
    }
    assert.equal(userByUsername(app.db, 'polyglot')!.locale, 'es');
  });

  test('"Same as my browser" clears the choice: Accept-Language decides again', async () => {
    const client = new Client(app.url, { 'accept-language': 'th' });
    await client.login('polyglot');
    const reply = await postSettings(client, 'language', { locale: '' });
    assert.equal(reply.status, 303);
    assert.equal(userByUsername(app.db, 'polyglot')!.locale, null);
    const page = await client.get(reply.location!);
    assert.equal(lang(page.text), 'th');
    assert.match(page.text, /data-flash>บันทึกแล้ว: แดชบอร์ดจะใช้ภาษาตามเบราว์เซอร์ของคุณ/);
  });
});

describe('the sign-in page', () => {
  test('says, in Spanish, how to get an account and what to do about a lost password', async () => {
    const page = await new Client(app.url, { 'accept-language': 'es-MX,es;q=0.9' }).get('/index.php?view=login');
    assert.equal(page.status, 200);
    assert.equal(lang(page.text), 'es');
    assert.match(page.text, /<h1>Iniciar sesión<\/h1>/);
    assert.match(page.text, /¿Aún no tienes cuenta\?/);
    assert.match(page.text, /las cuentas las crean los admins de la comunidad/);
    assert.match(page.text, /@request/);
    assert.match(page.text, /¿Olvidaste tu contraseña\?/);
    assert.match(page.text, /Un admin puede darte una nueva/);
    assert.doesNotMatch(page.text, /view=signup|view=register/, 'no sign-up is invented');
  });

  test('a wrong password is said in the visitor\'s language', async () => {
    const client = new Client(app.url, { 'accept-language': 'ru' });
    const reply = await client.login('polyglot', 'wrong password');
    assert.equal(reply.status, 401);
    assert.match(reply.text, /Неверное имя пользователя или пароль\./);
  });
});

describe('settings errors', () => {
  test('password errors are summarised at the top, each linking to its field', async () => {
    const client = new Client(app.url, { 'accept-language': 'en' });
    await client.login('summarised');
    const reply = await postSettings(client, 'password', { current_password: '', new_password: 'short', confirm_password: 'other' });
    assert.equal(reply.status, 422);
    const summary = /<div class="error-summary" role="alert"[\s\S]*?<\/div>/.exec(reply.text)?.[0] ?? '';
    assert.ok(summary, 'an error summary');
    assert.ok(reply.text.indexOf('error-summary') < reply.text.indexOf('action=language'), 'at the top of the page');
    assert.match(summary, /There are 3 problems/);
    assert.match(summary, /<a href="#current_password">Current password: Enter your current password<\/a>/);
    assert.match(summary, /<a href="#new_password">New password: The password must be at least 8 characters long<\/a>/);
    assert.match(summary, /<a href="#confirm_password">New password again: The new passwords do not match<\/a>/);
    assert.match(reply.text, /id="new_password-error">The password must be at least 8 characters long/, 'and next to each field');
  });

  test('without email set up, the page never says a link was sent', async () => {
    const client = new Client(app.url, { 'accept-language': 'en' });
    await client.login('summarised');
    const saved = await postSettings(client, 'email', { email: 'summarised@example.org' });
    assert.equal(saved.status, 303);
    const page = await client.get(saved.location!);
    assert.doesNotMatch(page.text, /follow the link we sent/i);
    assert.match(page.text, /data-flash>Address saved\. Email is not switched on here, so no confirmation mail was sent/);
    assert.match(page.text, /data-email-state="unconfirmed">\s*Not confirmed yet\. No confirmation mail was sent/);
    assert.match(page.text, /id="notify_email" aria-describedby="notify_email-why" disabled>/);
  });
});
