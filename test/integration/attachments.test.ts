// Seed 000 § Security & privacy: "File downloads are allowed only for the owner and only within
// the ticket." Plus the upload limits, the type allow-list and no orphan files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { prepared } from '../../src/db/index.js';
import { addUser, Client, csrfFrom, PNG_BYTES, startApp, uploadedFiles, type TestApp, type UploadFile } from '../helpers/app.js';

const MAX_BYTES = 4096;
let app: TestApp;
let owner: Client;
let other: Client;
let staff: Client;

before(async () => {
  app = await startApp({ env: { UPLOAD_MAX_BYTES: String(MAX_BYTES), UPLOAD_MAX_FILES: '3' } });
  await addUser(app.db, 'owner');
  await addUser(app.db, 'other');
  await addUser(app.db, 'helper', 'correct horse battery', 'staff');
  owner = new Client(app.url);
  await owner.login('owner');
  other = new Client(app.url);
  await other.login('other');
  staff = new Client(app.url);
  await staff.login('helper');
});
after(() => app.close());

function counts() {
  const rows = (prepared(app.db, 'SELECT (SELECT COUNT(*) FROM tickets) AS tickets, (SELECT COUNT(*) FROM attachments) AS attachments').get() as { tickets: number; attachments: number });
  return { ...rows, files: uploadedFiles(app.config.uploadsDir).length };
}

async function create(files: UploadFile[], fields: Record<string, string> = {}) {
  const _csrf = csrfFrom((await owner.get('/index.php?view=ticket_create')).text)!;
  return owner.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 'With files', message: 'See attached', ...fields }, files);
}

function attachmentLinks(html: string): { ticket: number; id: number; name: string }[] {
  return [...html.matchAll(/href="\/index.php\?view=attachment&amp;ticket=(\d+)&amp;id=(\d+)" data-attachment-id="\d+" download dir="auto">([^<]*)</g)].map((m) => ({
    ticket: Number(m[1]),
    id: Number(m[2]),
    name: m[3]!,
  }));
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const ZIP = Buffer.from('504b0506000000000000000000000000000000000000', 'hex');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(32, 1)]);
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x1a, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(16)]);

describe('allowed uploads', () => {
  test('images, text/log, PDF and ZIP are stored by random name with their hash, and listed under their message', async () => {
    const files: UploadFile[] = [
      { name: 'photo.JPG', content: JPEG },
      { name: 'anim.gif', content: GIF },
      { name: 'doc.pdf', content: PDF },
    ];
    const reply = await create(files);
    assert.equal(reply.status, 303);
    const page = await owner.get(reply.location!);
    const links = attachmentLinks(page.text);
    assert.deepEqual(links.map((l) => l.name), ['photo.JPG', 'anim.gif', 'doc.pdf']);

    const rows = prepared(app.db, 'SELECT storage_name AS storageName, original_name AS name, content_type AS type, size_bytes AS size, sha256 FROM attachments WHERE ticket_id = ? ORDER BY id').all(links[0]!.ticket) as { storageName: string; name: string; type: string; size: number; sha256: string }[];
    assert.deepEqual(rows.map((r) => r.type), ['image/jpeg', 'image/gif', 'application/pdf']);
    for (const [i, row] of rows.entries()) {
      assert.match(row.storageName, /^[\w-]{24}$/, 'a random name');
      assert.ok(!row.storageName.includes(path.parse(row.name).name));
      const stored = fs.readFileSync(path.join(app.config.uploadsDir, row.storageName));
      assert.deepEqual(stored, files[i]!.content);
      assert.equal(row.size, stored.length);
      assert.match(row.sha256, /^[0-9a-f]{64}$/);
    }
    const more = await create([{ name: 'a.zip', content: ZIP }, { name: 'b.webp', content: WEBP }, { name: 'server.log', content: 'line 1\nline 2 ü\n' }]);
    assert.equal(more.status, 303);
  });

  test('an empty file input (no file chosen) is not an attachment', async () => {
    const _csrf = csrfFrom((await owner.get('/index.php?view=ticket_create')).text)!;
    const form = new FormData();
    form.append('_csrf', _csrf);
    form.append('subject', 'No file chosen');
    form.append('message', 'Browsers send an empty part');
    form.append('attachments', new Blob([]), '');
    const reply = await owner.request('POST', '/index.php?view=ticket_create', form);
    assert.equal(reply.status, 303);
    assert.deepEqual(attachmentLinks((await owner.get(reply.location!)).text), []);
  });
});

describe('refused uploads store nothing and leave no file behind', () => {
  const cases: [string, UploadFile[], number, RegExp][] = [
    ['a file over UPLOAD_MAX_BYTES', [{ name: 'big.txt', content: 'x'.repeat(MAX_BYTES + 1) }], 413, /Each file must be at most 4 KiB/],
    ['more than UPLOAD_MAX_FILES files', [1, 2, 3, 4].map((i) => ({ name: `${i}.txt`, content: 'ok' })), 413, /Attach at most 3 files/],
    ['HTML disguised as a PNG', [{ name: 'cute.png', content: '<html><script>alert(1)</script></html>' }], 415, /“cute.png” is not really a PNG image/],
    ['a Windows program disguised as text', [{ name: 'readme.txt', content: Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(64)]) }], 415, /“readme.txt” is not a UTF-8 text file/],
    ['invalid UTF-8 text', [{ name: 'bad.log', content: Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x6f]) }], 415, /not a UTF-8 text file/],
    ['an executable by name', [{ name: 'game-hack.exe', content: 'MZ' }], 415, /“game-hack.exe” is not an allowed file type/],
    ['an SVG (can carry script)', [{ name: 'logo.svg', content: '<svg onload="alert(1)"/>' }], 415, /not an allowed file type/],
    ['a file without extension', [{ name: 'README', content: 'text' }], 415, /not an allowed file type/],
    ['a PNG that is too short to be one', [{ name: 'tiny.png', content: Buffer.from([0x89, 0x50]) }], 415, /not really a PNG image/],
    ['a good file next to a bad one', [{ name: 'ok.png', content: PNG_BYTES }, { name: 'bad.pdf', content: 'not a pdf at all' }], 415, /“bad.pdf” is not really a PDF document/],
    ['files under another field name', [{ name: 'x.png', content: PNG_BYTES, field: 'upload' }], 400, /Files can only be sent in the “attachments” field/],
  ];
  for (const [what, files, status, message] of cases) {
    test(what, async () => {
      const before = counts();
      const reply = await create(files, { subject: 'Keep my subject' });
      assert.equal(reply.status, status, reply.text.slice(0, 300));
      assert.match(reply.text, message);
      assert.match(reply.text, /id="attachments-error"/, 'the message stands next to the file field');
      assert.match(reply.text, /value="Keep my subject"/, 'the form keeps what was typed');
      assert.deepEqual(counts(), before);
    });
  }

  test('an oversized file is cut off while streaming: never written whole', async () => {
    // Watch the uploads folder while a 20x oversized upload streams in.
    const seen: number[] = [];
    const watcher = setInterval(() => {
      for (const name of uploadedFiles(app.config.uploadsDir)) {
        try {
          seen.push(fs.statSync(path.join(app.config.uploadsDir, name)).size);
        } catch {
          // removed between readdir and stat
        }
      }
    }, 1);
    try {
      const reply = await create([{ name: 'huge.log', content: 'y'.repeat(MAX_BYTES * 20) }]);
      assert.equal(reply.status, 413);
    } finally {
      clearInterval(watcher);
    }
    assert.ok(seen.every((size) => size <= MAX_BYTES), `largest partial file: ${Math.max(0, ...seen)}`);
  });

  test('a reply with a bad file keeps the typed message and stores nothing', async () => {
    const created = await create([]);
    const ticketPath = created.location!;
    const _csrf = csrfFrom((await owner.get(ticketPath)).text)!;
    const before = counts();
    const messages = (prepared(app.db, 'SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
    const reply = await owner.postMultipart(`${ticketPath}&action=reply`, { _csrf, message: 'my reply text' }, [{ name: 'x.gif', content: 'GIF no' }]);
    assert.equal(reply.status, 415);
    assert.match(reply.text, /my reply text<\/textarea>/);
    assert.deepEqual(counts(), before);
    assert.equal((prepared(app.db, 'SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, messages);
  });
});

describe('file names', () => {
  test('path parts, control characters and bidi overrides are removed; the name is shown escaped', async () => {
    const names: string[] = [];
    for (const batch of [
      [
        { name: '../../etc/passwd.txt', content: 'a' },
        { name: 'C:\\Users\\me\\notes.txt', content: 'b' },
        { name: 'invoice\u202Efdp.txt', content: 'c' },
      ],
      [
        { name: 'new\nline.log', content: 'd' },
        { name: '<img src=x onerror=alert(1)>.txt', content: 'e' },
      ],
    ]) {
      const reply = await create(batch);
      assert.equal(reply.status, 303, reply.text.slice(-600));
      names.push(...attachmentLinks((await owner.get(reply.location!)).text).map((l) => l.name));
    }
    assert.deepEqual(names, ['passwd.txt', 'notes.txt', 'invoicefdp.txt', 'newline.log', '&lt;img src=x onerror=alert(1)&gt;.txt']);
    const before = counts();
    const raw = await create([{ name: 'bell\u0007.log', content: 'f' }]);
    assert.equal(raw.status, 400, 'a raw control character in a part header is a malformed upload');
    assert.match(raw.text, /The upload could not be read/);
    assert.deepEqual(counts(), before);
    for (const name of uploadedFiles(app.config.uploadsDir)) assert.match(name, /^[\w-]{24}$/);
    assert.ok(!fs.existsSync(path.join(app.dir, 'etc')));
  });
});

describe('downloads', () => {
  let ticketPath: string;
  let link: { ticket: number; id: number; name: string };

  before(async () => {
    const reply = await create([{ name: 'отчёт "final".txt', content: 'report body\n' }]);
    ticketPath = reply.location!;
    link = attachmentLinks((await owner.get(ticketPath)).text)[0]!;
  });

  test('the owner downloads the file as an attachment, with an RFC 5987 name, nosniff and a sandbox CSP', async () => {
    const reply = await owner.get(`/index.php?view=attachment&ticket=${link.ticket}&id=${link.id}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'report body\n');
    assert.equal(reply.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(reply.headers.get('content-disposition'), `attachment; filename="_____ _final_.txt"; filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82%20%22final%22.txt`);
    assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
    assert.match(reply.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.match(reply.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.ok(recentAuditRows(app.db, 20).some((row) => row.action === 'attachment.download' && row.ticketId === link.ticket));
  });

  test('staff may download it too', async () => {
    assert.equal((await staff.get(`/index.php?view=attachment&ticket=${link.ticket}&id=${link.id}`)).status, 200);
  });

  test('another player gets a 404, and the refusal is audited', async () => {
    const reply = await other.get(`/index.php?view=attachment&ticket=${link.ticket}&id=${link.id}`);
    assert.equal(reply.status, 404);
    assert.doesNotMatch(reply.text, /report body/);
    assert.ok(recentAuditRows(app.db, 20).some((row) => row.action === 'ticket.access_refused' && row.ticketId === link.ticket));
  });

  test('an attachment id under the wrong ticket is a 404, even the owner’s own other ticket', async () => {
    const second = await create([]);
    const secondId = Number(/id=(\d+)/.exec(second.location!)![1]);
    const reply = await owner.get(`/index.php?view=attachment&ticket=${secondId}&id=${link.id}`);
    assert.equal(reply.status, 404);
    assert.ok(recentAuditRows(app.db, 20).some((row) => row.action === 'attachment.access_refused' && row.ticketId === secondId));
  });

  test('odd or missing parameters are a 404', async () => {
    for (const query of [`ticket=${link.ticket}`, `id=${link.id}`, `ticket=${link.ticket}&id=-1`, `ticket=abc&id=${link.id}`, `ticket=${link.ticket}&id=1e1`, `ticket=${link.ticket}&id=../../etc/passwd`]) {
      assert.equal((await owner.get(`/index.php?view=attachment&${query}`)).status, 404, query);
    }
  });

  test('signed out, the download asks for sign-in', async () => {
    const reply = await new Client(app.url).get(`/index.php?view=attachment&ticket=${link.ticket}&id=${link.id}`);
    assert.equal(reply.status, 302);
    assert.match(reply.location!, /view=login/);
  });

  test('uploads are not reachable as static files', async () => {
    const storageName = uploadedFiles(app.config.uploadsDir)[0]!;
    for (const p of [`/uploads/${storageName}`, `/static/${storageName}`, `/static/../uploads/${storageName}`]) {
      assert.equal((await owner.get(p)).status, 404, p);
    }
  });
});

describe('orphan files', () => {
  test('files no row refers to are removed after a crash; stored ones and uploads in flight stay', async () => {
    const { removeOrphanUploads } = await import('../../src/web/uploads/sweep.js');
    const { attachmentStorageNameExists } = await import('../../src/db/attachments.js');
    const dir = app.config.uploadsDir;
    const kept = uploadedFiles(dir);
    assert.ok(kept.length > 0);
    const orphan = path.join(dir, 'orphanfile000000000000000');
    const fresh = path.join(dir, 'inflight0000000000000000');
    fs.writeFileSync(orphan, 'left by a crash');
    fs.writeFileSync(fresh, 'still being uploaded');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(orphan, past, past);
    const removed = await removeOrphanUploads(dir, (name) => attachmentStorageNameExists(app.db, name), Date.now() - 30_000);
    assert.deepEqual(removed, ['orphanfile000000000000000']);
    assert.ok(!fs.existsSync(orphan));
    assert.ok(fs.existsSync(fresh));
    fs.rmSync(fresh);
    assert.deepEqual(uploadedFiles(dir).sort(), kept.sort());
  });
});
