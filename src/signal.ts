// A wake-up call inside the process: long polls wait for new whispers, the Discord worker for new
// work. Nothing is carried by the signal itself; the database is the source of truth.
//
// Two kinds of waiter. `wait` is for the few workers that each recheck on every wake-up: notify()
// wakes all of them. `waitInLine` is for many waiters competing for the same rows (the game API's
// long polls): notify() wakes only the first in line (FIFO), and a waiter that leaves work behind
// passes the wake-up on with notifyOne(). So one queued whisper costs one query, not one per
// waiting poll, whichever code calls notify().
type Wake = () => void;

export class Signal {
  private waiters = new Set<Wake>();
  private line = new Set<Wake>();

  /** Something was queued: every `wait`er wakes, and the first waiter in line. */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
    this.notifyOne();
  }

  /** Wakes the longest-waiting waiter in line, if any. */
  notifyOne(): void {
    const first = this.line.values().next();
    if (!first.done) first.value();
  }

  /** Resolves true when notified, false after `ms` (or when `abort` fires). */
  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    return this.enter(this.waiters, ms, abort);
  }

  /** Like wait(), in line: notify() and notifyOne() wake only the first in line. */
  waitInLine(ms: number, abort?: AbortSignal): Promise<boolean> {
    return this.enter(this.line, ms, abort);
  }

  private enter(waiters: Set<Wake>, ms: number, abort?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (abort?.aborted || ms <= 0) {
        resolve(false);
        return;
      }
      const done = (woken: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        abort?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      waiters.add(wake);
      abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get waiting(): number {
    return this.waiters.size + this.line.size;
  }
}
