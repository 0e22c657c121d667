// A wake-up call inside the process: long polls wait for new whispers, the Discord worker for new
// work. Nothing is carried by the signal itself; the database is the source of truth.
export class Signal {
  private waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves true when notified, false after `ms` (or when `abort` fires). */
  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (abort?.aborted || ms <= 0) {
        resolve(false);
        return;
      }
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        abort?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(wake);
      abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get waiting(): number {
    return this.waiters.size;
  }
}
