import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, randomPassword, verifyPassword } from '../../src/passwords.js';

test('a hash verifies its own password and no other', async () => {
  const hash = await hashPassword('correct horse battery staple');
  assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{86}$/);
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
  assert.equal(await verifyPassword('', hash), false);
});

test('each hash has its own salt', async () => {
  const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
  assert.notEqual(a, b);
});

test('unicode passwords are compared after NFKC normalisation', async () => {
  const hash = await hashPassword('caf\u00e9-p\u00e4ss');
  assert.equal(await verifyPassword('cafe\u0301-pa\u0308ss', hash), true);
});

test('a malformed stored hash never verifies', async () => {
  for (const stored of ['', 'plain', 'scrypt$1$2$3', 'bcrypt$x$y$z$a$b', 'scrypt$abc$8$1$c2FsdA$aGFzaA']) {
    assert.equal(await verifyPassword('x', stored), false, stored);
  }
});

test('generated passwords are long and different', () => {
  const a = randomPassword();
  assert.equal(a.length, 20);
  assert.notEqual(a, randomPassword());
});
