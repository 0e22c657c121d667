// The in-process wake-up (src/signal.ts): workers that `wait` all wake on notify(); waiters in line
// (the game API's long polls) wake one at a time, first come first served.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Signal } from '../../src/signal.js';

function track(promise: Promise<boolean>) {
  const state: { result?: boolean } = {};
  void promise.then((result) => (state.result = result));
  return state;
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('notify() wakes every plain waiter and only the first waiter in line', async () => {
  const signal = new Signal();
  const workers = [track(signal.wait(10_000)), track(signal.wait(10_000))];
  const line = [track(signal.waitInLine(10_000)), track(signal.waitInLine(10_000)), track(signal.waitInLine(10_000))];
  assert.equal(signal.waiting, 5);
  signal.notify();
  await settle();
  assert.deepEqual(workers.map((w) => w.result), [true, true]);
  assert.deepEqual(line.map((w) => w.result), [true, undefined, undefined]);
  assert.equal(signal.waiting, 2);
  signal.notifyOne();
  signal.notifyOne();
  await settle();
  assert.deepEqual(line.map((w) => w.result), [true, true, true], 'in the order they came');
  assert.equal(signal.waiting, 0);
  signal.notifyOne();
});

test('a waiter in line that times out or is aborted leaves the line; the next one gets the wake-up', async () => {
  const signal = new Signal();
  const abort = new AbortController();
  const first = track(signal.waitInLine(10_000, abort.signal));
  const second = track(signal.waitInLine(10_000));
  abort.abort();
  await settle();
  assert.equal(first.result, false);
  signal.notify();
  await settle();
  assert.equal(second.result, true);
  assert.equal(await signal.waitInLine(1), false, 'times out');
  assert.equal(signal.waiting, 0);
});
