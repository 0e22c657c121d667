// The load generator, run as its own process by bench/run.ts so it never shares a CPU loop with
// what it measures. One process runs a whole plan: a list of targets and a list of windows, each
// window one autocannon run against one target, back to back. A ratio's alternation (A B A B ...)
// is one plan, so no process starts between its windows. It prints one JSON line when a window
// starts and one with its figures when it ends (run.ts acts on the starts: a heap snapshot).
//   node --import tsx bench/load.ts '<json LoadPlan>'
import fs from 'node:fs';
import autocannon from 'autocannon';

export interface LoadTarget {
  url: string;
  connections: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** POST bodies rotated over: a JSON file with an array of strings. */
  bodiesFile?: string;
}

export interface LoadWindow {
  /** Index into LoadPlan.targets. */
  target: number;
  seconds: number;
  /** A warm-up window is run and reported but not counted by run.ts. */
  warmup?: boolean;
}

export interface LoadPlan {
  targets: LoadTarget[];
  windows: LoadWindow[];
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  bytesPerRequest: number;
}

export type LoadEvent = { event: 'start'; window: number } | { event: 'end'; window: number; result: LoadResult };

const bodiesByFile = new Map<string, string[]>();
function bodiesOf(file: string): string[] {
  let bodies = bodiesByFile.get(file);
  if (!bodies) {
    bodies = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
    bodiesByFile.set(file, bodies);
  }
  return bodies;
}

let nextBody = 0;
function run(target: LoadTarget, seconds: number): Promise<autocannon.Result> {
  const bodies = target.bodiesFile ? bodiesOf(target.bodiesFile) : undefined;
  return autocannon({
    url: target.url,
    connections: target.connections,
    duration: seconds,
    method: target.method ?? 'GET',
    headers: target.headers ?? {},
    ...(bodies
      ? {
          requests: [
            {
              setupRequest: (request) => {
                request.body = bodies[nextBody++ % bodies.length]!;
                return request;
              },
            },
          ],
        }
      : {}),
  });
}

/**
 * When a window ends, autocannon drops its connections, but the requests they had in flight are
 * already being served (a search's SQL cannot be cancelled), and so are those it gave up on after
 * its timeout (the stats rows at 16 connections); that work would fall into the next window, or
 * the next row. Requests to the same server wait it out between windows: until three running are
 * answered at once (within 20 ms), for at most two minutes. Any answer will do (the ceiling has
 * no /healthz).
 */
async function settle(target: LoadTarget): Promise<void> {
  const until = Date.now() + 120_000;
  for (let fast = 0; fast < 3 && Date.now() < until; ) {
    const started = performance.now();
    try {
      const response = await fetch(new URL('/healthz', target.url), { signal: AbortSignal.timeout(Math.max(1, until - Date.now())) });
      await response.arrayBuffer();
    } catch {
      return; // A server that does not answer shows in the next window's figures.
    }
    fast = performance.now() - started < 20 ? fast + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const emit = (event: LoadEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);
const plan = JSON.parse(process.argv[2] ?? '{}') as LoadPlan;
for (const [i, window] of plan.windows.entries()) {
  emit({ event: 'start', window: i });
  const target = plan.targets[window.target]!;
  const result = await run(target, window.seconds);
  await settle(target);
  emit({
    event: 'end',
    window: i,
    result: {
      requests: result.requests.total,
      rps: result.duration > 0 ? result.requests.total / result.duration : 0,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      bytesPerRequest: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
    },
  });
}
