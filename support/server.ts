// The one launcher of the real server process (src/server.ts through tsx, or the compiled
// dist/server.js the way `npm start` runs it), for the tests, the reliability runs
// (support/load.ts) and the bench (bench/run.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';

/** tsx's loader, resolved from this project so children may run in any working directory. */
export const TSX = import.meta.resolve('tsx');

export function tsArgs(entry: string, ...args: string[]): string[] {
  return ['--import', TSX, path.join(PROJECT_ROOT, entry), ...args];
}

/** A clean environment for a child: the parent's PATH and HOME, none of its app settings. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TZ: 'UTC', ...env };
}

/**
 * The node flags `npm start` runs the server with (package.json's start script, e.g. the young
 * generation's size): the built server is launched with them, so what the bench and the
 * reliability runs measure is what production runs.
 */
export function startScriptNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const words = (pkg.scripts?.start ?? '').trim().split(/\s+/);
  const entry = words.indexOf('dist/server.js');
  if (words[0] !== 'node' || entry < 0) throw new Error(`package.json's start script is not "node [flags] dist/server.js": ${pkg.scripts?.start}`);
  return words.slice(1, entry);
}

export interface ServerOptions {
  cwd: string;
  /** The app's variables (on top of PATH, HOME and TZ). */
  env: Record<string, string>;
  /** Run dist/server.js (after `npm run build`) instead of src/server.ts through tsx. */
  built?: boolean;
  /** Flags for node itself (--cpu-prof, say); a built server also gets those of `npm start`. */
  nodeFlags?: string[];
  /** Keep only the last this many characters of each output stream (a long soak); all by default. */
  keepChars?: number;
  /**
   * Ready when this URL's /healthz answers 200, for a log level that hides the "listening on" line
   * (the bench runs at warn). By default ready is that line.
   */
  healthUrl?: string;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export class ServerProcess {
  readonly child: ChildProcess;
  /** The base URL, once the server listens; rejects if it exits first. */
  readonly url: Promise<string>;
  readonly exited: Promise<Exit>;
  private out = '';
  private err = '';
  private pending = '';
  private readonly lineListeners: ((line: string) => void)[] = [];

  constructor(private readonly options: ServerOptions) {
    const entry = options.built ? [path.join(PROJECT_ROOT, 'dist/server.js')] : tsArgs('src/server.ts');
    const flags = [...(options.built ? startScriptNodeFlags() : []), ...(options.nodeFlags ?? [])];
    this.child = spawn(process.execPath, [...flags, ...entry], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.url = options.healthUrl ? this.healthy(options.healthUrl) : this.listeningLine();
    this.url.catch(() => undefined);
    this.child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.err = this.keep(this.err + chunk.toString('utf8'));
    });
  }

  /** Everything printed so far (or its tail, with keepChars). */
  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  /** Calls `listener` with every complete line the server prints on stdout from now on. */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** kill -9: no handler runs, nothing is flushed. */
  async kill9(): Promise<Exit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** A graceful stop (SIGTERM), SIGKILL after `timeoutMs`; the exit code and signal. */
  async stop(timeoutMs = 20_000): Promise<Exit> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resident memory of the server process in bytes (VmRSS), or undefined once it is gone. */
  rssBytes(): number | undefined {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined;
    }
  }

  private keep(text: string): string {
    return this.options.keepChars === undefined ? text : text.slice(-this.options.keepChars);
  }

  private onStdout(text: string): void {
    this.out = this.keep(this.out + text);
    this.pending += text;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) for (const listener of this.lineListeners) listener(line);
  }

  private listeningLine(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.onLine((line) => {
        const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(line);
        if (match) resolve(match[1]!);
      });
      void this.exited.then(({ code, signal }) => reject(this.exitError(code, signal)));
    });
  }

  private async healthy(url: string): Promise<string> {
    let gone: Exit | undefined;
    void this.exited.then((exit) => (gone = exit));
    for (;;) {
      if (gone) throw this.exitError(gone.code, gone.signal);
      const ok = await fetch(`${url}/healthz`).then(
        async (response) => (await response.arrayBuffer(), response.status === 200),
        () => false,
      );
      if (ok) return url;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null): Error {
    return new Error(`server exited before listening (code ${code}, signal ${signal}):\n${this.out}\n${this.err}`);
  }
}

/** Starts the server and returns at once; `url` resolves when it listens. */
export function launchServer(options: ServerOptions): ServerProcess {
  return new ServerProcess(options);
}

/** Starts the server and waits until it listens (SIGKILL and an error after `timeoutMs`). */
export async function startServer(options: ServerOptions, timeoutMs = 30_000): Promise<ServerProcess> {
  return untilListening(new ServerProcess(options), timeoutMs);
}

/** Waits until `server` listens; kills it and throws after `timeoutMs` or if it exits first. */
export async function untilListening<T extends ServerProcess>(server: T, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      server.url,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms:\n${server.stdout()}\n${server.stderr()}`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    server.child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return server;
}
