// The load generator, run as its own process by bench/run.ts so it never shares a CPU loop with
// what it measures: autocannon, a warm-up, then the measured window. Prints one JSON line.
//   node --import tsx bench/load.ts '<json LoadSpec>'
import fs from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** POST bodies rotated over: a JSON file with an array of strings. */
  bodiesFile?: string;
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

function run(spec: LoadSpec, seconds: number): Promise<autocannon.Result> {
  const bodies = spec.bodiesFile ? (JSON.parse(fs.readFileSync(spec.bodiesFile, 'utf8')) as string[]) : undefined;
  let next = 0;
  return autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: seconds,
    method: spec.method ?? 'GET',
    headers: spec.headers ?? {},
    ...(bodies
      ? {
          requests: [
            {
              setupRequest: (request) => {
                request.body = bodies[next++ % bodies.length]!;
                return request;
              },
            },
          ],
        }
      : {}),
  });
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds);
const result = await run(spec, spec.seconds);
const out: LoadResult = {
  requests: result.requests.total,
  rps: result.requests.average,
  p50: result.latency.p50,
  p90: result.latency.p90,
  p99: result.latency.p99,
  max: result.latency.max,
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
  bytesPerRequest: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
