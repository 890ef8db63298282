import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCriLine, readLogs, tailEntries } from './logs.js';

const LOG = [
  '2026-11-22T01:39:43.631632063Z stdout F one',
  '2026-11-22T01:39:44.000000000Z stderr P par',
  '2026-11-22T01:39:44.100000000Z stderr F tial',
  '2026-11-22T01:39:45.000000000Z stdout F three',
  '',
].join('\n');

async function collect(file: string, opts: Parameters<typeof readLogs>[1]): Promise<string> {
  let s = '';
  await readLogs(file, opts, { write: (c) => void (s += c), closed: () => false }, async () => false);
  return s;
}

test('CRI log lines parse, partial lines join, options apply', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-logs-'));
  try {
    const f = path.join(dir, '0.log');
    fs.writeFileSync(f, LOG);
    assert.deepEqual(parseCriLine('2026-11-22T01:39:43.631632063Z stdout F hello world'), { time: '2026-11-22T01:39:43.631632063Z', ms: Date.parse('2026-11-22T01:39:43.631Z'), stream: 'stdout', partial: false, content: 'hello world' });
    assert.equal(parseCriLine('garbage'), undefined);
    assert.equal(await collect(f, {}), 'one\npartial\nthree\n');
    assert.equal(await collect(f, { tailLines: 2 }), 'partial\nthree\n');
    assert.equal(await collect(f, { tailLines: 0 }), '');
    assert.equal(await collect(f, { timestamps: true, tailLines: 1 }), '2026-11-22T01:39:45.000000000Z three\n');
    assert.equal(await collect(f, { sinceMs: Date.parse('2026-11-22T01:39:44.050Z') }), 'tial\nthree\n');
    assert.equal(await collect(f, { limitBytes: 6 }), 'one\npa');
    assert.equal(tailEntries([], 3).length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('follow streams appended lines until the container stops', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-logs-'));
  try {
    const f = path.join(dir, '0.log');
    fs.writeFileSync(f, '2026-11-22T01:39:43.000000000Z stdout F a\n');
    let running = true;
    let s = '';
    const p = readLogs(f, { follow: true }, { write: (c) => void (s += c), closed: () => false }, async () => running);
    await new Promise((r) => setTimeout(r, 300));
    fs.appendFileSync(f, '2026-11-22T01:39:44.000000000Z stdout F b\n');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(s, 'a\nb\n');
    fs.appendFileSync(f, '2026-11-22T01:39:45.000000000Z stdout F c\n');
    running = false;
    await p;
    assert.equal(s, 'a\nb\nc\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
