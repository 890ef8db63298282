/** A tiny HTTP client for tests that talk to the apiserver directly. */

export interface Resp {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function req(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Resp> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) init.body = body as BodyInit;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
    }
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: body stays undefined and the text is there
  }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

/** Reads a watch stream's events until `until` says stop or the timeout passes. */
export async function collectWatch(url: string, until: (events: any[]) => boolean, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<{ status: number; events: any[] }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: any[] = [];
  let status = 0;
  try {
    const r = await fetch(url, { signal: ac.signal, headers });
    status = r.status;
    const reader = r.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += Buffer.from(value).toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) events.push(JSON.parse(line));
      }
      if (until(events)) break;
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { status, events };
}
