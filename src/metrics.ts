// GET /metrics (issue #17): Prometheus text from prom-client, on a registry of our own (never the
// global one, so two apps in one test process keep their numbers apart). A request costs one
// histogram observe on a child made at start; everything else is read when Prometheus scrapes:
// tickets by status and source, each outbox's depth and oldest entry (src/db/metrics.ts), delivery
// failures, the bridge's connection, waiting long polls, the last backup, and prom-client's process
// metrics (memory, CPU, and event-loop lag from perf_hooks.monitorEventLoopDelay).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { closedTicketCounts, discordOutboxDepth, notificationOutboxDepths, openTicketCounts, whisperOutboxDepth, type OutboxDepth } from './db/metrics.js';
import type { Db } from './db/index.js';
import type { DeliveryRecord } from './integrations.js';

/** What the last scheduled or manual backup did (filled by whoever makes backups). */
export interface BackupResult {
  /** When it finished (ms since the epoch). */
  at: number;
  ok: boolean;
  /** Size of the archive in bytes, when it worked. */
  bytes?: number;
}

export interface MetricsSources {
  db: Db;
  /** The `view` values of /index.php (src/web/routes.ts); any other value counts as "other". */
  views: readonly string[];
  /** The view /index.php shows without one. */
  defaultView: string;
  /** The Discord gateway is Ready; undefined when the bridge is off (the gauge says 0). */
  bridgeConnected?: () => boolean;
  /** Long polls of the game server waiting for whispers now. */
  longPollsWaiting?: () => number;
  /** Each integration's deliveries (src/integrations.ts), for the failure counter. */
  deliveries?: () => Partial<Record<string, DeliveryRecord>>;
}

/** Closed tickets are most of a big desk and change slowly: counted at most this often. */
const CLOSED_COUNT_TTL_MS = 60_000;
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Requests outside /index.php: the game API (long polls included), and everything else. */
export const GAME_API_VIEW = 'game_api';
export const OTHER_VIEW = 'other';

export class Metrics {
  readonly registry = new Registry();
  private readonly viewIndex = new Map<string, number>();
  private readonly otherIndex: number;
  private readonly defaultIndex: number;
  private readonly gameApiIndex: number;
  /** One histogram child per view and status class, made once: a request allocates no labels. */
  private readonly children: { observe(value: number): void }[][];
  private lastBackup: (() => BackupResult | undefined) | undefined;
  private closed: { at: number; rows: { source: string; n: number }[] } | undefined;

  constructor(private readonly sources: MetricsSources) {
    const { registry } = this;
    collectDefaultMetrics({ register: registry, prefix: 'ticketbridge_' });
    const labels = [...sources.views, GAME_API_VIEW, OTHER_VIEW];
    sources.views.forEach((view, i) => this.viewIndex.set(view, i));
    this.gameApiIndex = sources.views.length;
    this.otherIndex = sources.views.length + 1;
    this.defaultIndex = this.viewIndex.get(sources.defaultView) ?? this.otherIndex;
    const requests = new Histogram({
      name: 'ticketbridge_http_request_duration_seconds',
      help: 'HTTP requests by view (the view query parameter of /index.php; game_api; other) and status class; _count is the number of requests',
      labelNames: ['view', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [registry],
    });
    this.children = labels.map((view) => STATUS_CLASSES.map((status) => requests.labels(view, status)));

    // The collects below get the metric as `this`; these arrows read this object.
    const closedCounts = () => this.closedCounts();
    const lastBackup = () => this.lastBackup?.();
    new Gauge({
      name: 'ticketbridge_tickets',
      help: 'Tickets by status and source (closed ones counted at most once a minute)',
      labelNames: ['status', 'source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const row of openTicketCounts(sources.db)) this.set({ status: row.status, source: row.source }, row.n);
        for (const row of closedCounts()) this.set({ status: 'closed', source: row.source }, row.n);
      },
    });
    const age = new Gauge({ name: 'ticketbridge_outbox_oldest_age_seconds', help: 'Age of the oldest entry waiting in an outbox (0 when empty)', labelNames: ['outbox'] });
    const setOutbox = (gauge: Gauge, outbox: string, row: OutboxDepth, now: number) => {
      gauge.set({ outbox }, row.n);
      age.set({ outbox }, row.oldest === null ? 0 : Math.max(0, (now - row.oldest) / 1000));
    };
    // The depth's collect fills the age too (registered after it, so read after it).
    new Gauge({
      name: 'ticketbridge_outbox_depth',
      help: 'Entries waiting in an outbox: discord (work for Discord), whispers (not acked by the game server), notifications_email, notifications_telegram',
      labelNames: ['outbox'],
      registers: [registry],
      collect() {
        const now = Date.now();
        setOutbox(this, 'discord', discordOutboxDepth(sources.db), now);
        setOutbox(this, 'whispers', whisperOutboxDepth(sources.db), now);
        const byChannel = new Map(notificationOutboxDepths(sources.db).map((row) => [row.channel, row]));
        for (const channel of ['email', 'telegram']) setOutbox(this, `notifications_${channel}`, byChannel.get(channel) ?? { n: 0, oldest: null }, now);
      },
    });
    registry.registerMetric(age);
    new Counter({
      name: 'ticketbridge_delivery_failures_total',
      help: 'Failed delivery attempts since the process started, by integration (retried ones included)',
      labelNames: ['integration'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [integration, record] of Object.entries(sources.deliveries?.() ?? {})) if (record) this.inc({ integration }, record.failures);
      },
    });
    new Gauge({
      name: 'ticketbridge_discord_connected',
      help: '1 while the Discord gateway is Ready, else 0 (also 0 when the bridge is off)',
      registers: [registry],
      collect() {
        this.set(sources.bridgeConnected?.() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ticketbridge_game_long_polls_waiting',
      help: 'Long polls of the game server waiting for whispers',
      registers: [registry],
      collect() {
        this.set(sources.longPollsWaiting?.() ?? 0);
      },
    });
    new Gauge({
      name: 'ticketbridge_last_backup_timestamp_seconds',
      help: 'When the last backup finished (0: none since the process started)',
      registers: [registry],
      collect() {
        this.set((lastBackup()?.at ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'ticketbridge_last_backup_ok',
      help: '1 if the last backup worked, 0 if it failed or none was made',
      registers: [registry],
      collect() {
        this.set(lastBackup()?.ok ? 1 : 0);
      },
    });
  }

  /** The slot for the backups: `fn` says what the last backup did, read at each scrape. */
  setLastBackup(fn: () => BackupResult | undefined): void {
    this.lastBackup = fn;
  }

  /** The label index of a request: its view for /index.php (never the raw value), game_api, or other. */
  viewOf(path: string, view: unknown): number {
    if (path === '/index.php') {
      if (view === undefined || view === '') return this.defaultIndex;
      return (typeof view === 'string' ? this.viewIndex.get(view) : undefined) ?? this.otherIndex;
    }
    return path.startsWith('/api/game/') ? this.gameApiIndex : this.otherIndex;
  }

  /** One finished request (`view` from viewOf, `status` the HTTP status, `seconds` its duration). */
  observe(view: number, status: number, seconds: number): void {
    const cls = Math.floor(status / 100) - 1;
    (this.children[view] ?? this.children[this.otherIndex]!)[cls >= 0 && cls < 5 ? cls : 4]!.observe(seconds);
  }

  private closedCounts(): { source: string; n: number }[] {
    const now = Date.now();
    if (!this.closed || now - this.closed.at >= CLOSED_COUNT_TTL_MS) this.closed = { at: now, rows: closedTicketCounts(this.sources.db) };
    return this.closed.rows;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
