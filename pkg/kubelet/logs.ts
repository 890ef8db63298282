/**
 * Reading container logs in the CRI format (upstream pkg/kubelet/kuberuntime/logs): each line is
 * `<RFC3339Nano time> <stdout|stderr> <P|F>[:tags] <content>`, where P marks a partial line that
 * the next entry continues. Supports what `kubectl logs` asks for: follow, tailLines,
 * sinceSeconds/sinceTime, timestamps and limitBytes.
 */
import fs from 'node:fs';

export interface LogEntry {
  /** The timestamp as written (RFC 3339 with nanoseconds). */
  time: string;
  /** Milliseconds since the epoch. */
  ms: number;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  content: string;
}

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  /** Only entries at or after this time (ms since epoch). */
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

/** Parses one CRI log line; undefined for a malformed one. */
export function parseCriLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  if (a < 0) return undefined;
  const b = line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const time = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const c = line.indexOf(' ', b + 1);
  const tags = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const content = c < 0 ? '' : line.slice(c + 1);
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return undefined;
  return { time, ms, stream, partial: tags.split(':')[0] === 'P', content };
}

/** The text an entry contributes: the content, plus a newline when the line is complete. */
export function formatEntry(e: LogEntry, timestamps: boolean): string {
  const body = e.partial ? e.content : `${e.content}\n`;
  return timestamps ? `${e.time} ${body}` : body;
}

/** Splits a complete log file's text into entries (the last line may be incomplete). */
function entriesOf(text: string): { entries: LogEntry[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  const entries: LogEntry[] = [];
  for (const l of lines) {
    const e = parseCriLine(l);
    if (e) entries.push(e);
  }
  return { entries, rest };
}

/** Keeps the entries that make up the last `n` complete lines (partials belong to the line they end in). */
export function tailEntries(entries: LogEntry[], n: number): LogEntry[] {
  if (n < 0) return entries;
  if (n === 0) return [];
  let lines = 0;
  let i = entries.length - 1;
  for (; i >= 0; i--) {
    if (!entries[i]!.partial) {
      lines++;
      if (lines > n) break;
    }
  }
  return entries.slice(i + 1);
}

export interface LogSink {
  write(chunk: string): boolean | void;
  /** True once the reader went away. */
  closed(): boolean;
}

/**
 * Writes a log file's entries to `out` by the options. With follow, keeps reading appended entries
 * until `stillRunning` says the container stopped (and the file is drained) or the sink closes.
 */
export async function readLogs(file: string, opts: LogOptions, out: LogSink, stillRunning: () => Promise<boolean>, signal?: AbortSignal): Promise<void> {
  let remaining = opts.limitBytes && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
  const emit = (entries: LogEntry[]): boolean => {
    for (const e of entries) {
      if (opts.sinceMs !== undefined && e.ms < opts.sinceMs) continue;
      let s = formatEntry(e, opts.timestamps === true);
      if (Buffer.byteLength(s) > remaining) s = Buffer.from(s).subarray(0, remaining).toString('utf8');
      out.write(s);
      remaining -= Buffer.byteLength(s);
      if (remaining <= 0) return false;
    }
    return true;
  };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = '';
  }
  let offset = Buffer.byteLength(text);
  const first = entriesOf(text);
  let pending = first.rest;
  offset -= Buffer.byteLength(pending);
  const initial = opts.tailLines !== undefined && opts.tailLines >= 0 ? tailEntries(first.entries, opts.tailLines) : first.entries;
  if (!emit(initial) || !opts.follow) return;
  pending = '';
  while (!out.closed() && !signal?.aborted) {
    let chunk = '';
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size < offset) offset = 0; // truncated or rotated: start over
        if (size > offset) {
          const buf = Buffer.alloc(size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          offset = size;
          chunk = buf.toString('utf8');
        }
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      chunk = '';
    }
    if (chunk) {
      const { entries, rest } = entriesOf(pending + chunk);
      pending = rest;
      if (!emit(entries)) return;
      continue;
    }
    if (!(await stillRunning())) {
      // One last read for whatever the container wrote as it exited.
      await new Promise((r) => setTimeout(r, 100));
      try {
        const tail = fs.readFileSync(file).subarray(offset).toString('utf8');
        emit(entriesOf(pending + tail + (tail.endsWith('\n') || !tail ? '' : '\n')).entries);
      } catch {
        // gone
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
