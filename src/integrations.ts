// The state of an optional integration (Discord, Telegram, email, the game API) as /healthz and the
// admin page show it. It lives below both ends: the Discord bridge and the notification senders
// report it (src/discord/bridge.ts, src/notify/worker.ts), the web app shows it (src/web/app.ts)
// and src/server.ts collects it, so src/discord never imports from src/web.

export interface IntegrationState {
  /** `down`: not configured wrong, but the last attempt to reach it failed (see lastError). */
  state: 'off' | 'starting' | 'ready' | 'down';
  detail?: string;
  /** Setup mistakes found by a check, one plain sentence each with its fix (Discord's setup check). */
  problems?: string[];
  /** Discord only: channels the server can still take (of 500), and the ticket category's room (of 50). */
  room?: { guild: number; category?: { name: string; left: number } };
  /** The last failed delivery or connection, without secrets (src/redact.ts), and when (ISO time). */
  lastError?: string;
  lastErrorAt?: string;
  /** The last delivery or connection that worked (ISO time). */
  lastSuccessAt?: string;
}

/**
 * What happened to one integration's deliveries: the last success, the last failure and how many
 * failed. Its state is what really happened (an unreachable SMTP server is `down`), not only what
 * is configured. A refusal of one message (an unknown address, a chat that blocked the bot) is a
 * failed delivery but says nothing against the server: it leaves the state as it was.
 */
export class DeliveryRecord {
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  /** The last failure was the service's (unreachable, timed out, 5xx), not one message's. */
  private serviceDown = false;
  /** Failed attempts since the process started (a Prometheus counter reads it). */
  failures = 0;

  success(now = Date.now()): void {
    this.lastSuccessAt = now;
    this.serviceDown = false;
  }

  /** A failed attempt; `refusedOne`: the service answered but refused this one message. */
  failure(error: string, options: { refusedOne?: boolean; now?: number } = {}): void {
    this.failures += 1;
    this.lastError = error;
    this.lastErrorAt = options.now ?? Date.now();
    if (!options.refusedOne) this.serviceDown = true;
  }

  /** The state of a configured integration, from what happened so far. */
  state(detail?: string): IntegrationState {
    const times = {
      ...(this.lastError !== undefined ? { lastError: this.lastError, lastErrorAt: new Date(this.lastErrorAt!).toISOString() } : {}),
      ...(this.lastSuccessAt !== undefined ? { lastSuccessAt: new Date(this.lastSuccessAt).toISOString() } : {}),
    };
    if (this.serviceDown) return { state: 'down', detail: `last attempt failed: ${this.lastError}`, ...times };
    // Nothing tried yet (the check at start is under way): not known to work.
    if (this.lastSuccessAt === undefined && this.lastErrorAt === undefined) return { state: 'starting', ...(detail !== undefined ? { detail } : {}) };
    return { state: 'ready', ...(detail !== undefined ? { detail } : {}), ...times };
  }
}
