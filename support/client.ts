// The one cookie-keeping HTTP client of the tests, the reliability runs (support/load.ts) and the
// bench (bench/run.ts): it behaves like a browser without JavaScript and never follows redirects,
// so a caller sees each step.

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

export interface UploadFile {
  name: string;
  content: Buffer | string;
  type?: string;
  field?: string;
}

export const DEFAULT_PASSWORD = 'correct horse battery';

export class Client {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly extraHeaders: Record<string, string> = {},
    /** timeoutMs: each request is aborted after this long (none by default). */
    readonly options: { timeoutMs?: number } = {},
  ) {}

  /** The Cookie header this client sends (the bench hands it to autocannon). */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(
    method: string,
    pathname: string,
    body?: URLSearchParams | string | FormData,
    headers: Record<string, string> = {},
    timeoutMs = this.options.timeoutMs,
  ): Promise<Reply> {
    const response = await fetch(new URL(pathname, this.base), {
      method,
      redirect: 'manual',
      headers: { ...this.extraHeaders, ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}), ...headers },
      body,
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
    });
    for (const line of response.headers.getSetCookie()) this.keepCookie(line);
    return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get('location') };
  }

  private keepCookie(line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const index = pair.indexOf('=');
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }

  get(pathname: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request('GET', pathname, undefined, headers);
  }

  post(pathname: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Reply> {
    return this.request('POST', pathname, new URLSearchParams(form), headers);
  }

  /** A multipart form, as a browser sends one with `<input type=file name=attachments multiple>`. */
  postMultipart(pathname: string, fields: Record<string, string>, files: UploadFile[] = [], headers?: Record<string, string>): Promise<Reply> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    for (const file of files) form.append(file.field ?? 'attachments', new Blob([file.content], { type: file.type ?? 'application/octet-stream' }), file.name);
    return this.request('POST', pathname, form, headers);
  }

  /** The CSRF token from the first form of `pathname`. */
  async csrf(pathname = '/index.php?view=login'): Promise<string> {
    const page = await this.get(pathname);
    const token = csrfFrom(page.text);
    if (!token) throw new Error(`no _csrf field on ${pathname} (status ${page.status})`);
    return token;
  }

  async login(username: string, password = DEFAULT_PASSWORD): Promise<Reply> {
    const _csrf = await this.csrf();
    return this.post('/index.php?view=login', { _csrf, username, password });
  }
}

export function csrfFrom(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
}
