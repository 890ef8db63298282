/**
 * A front for the apiserver that serves pods/log, exec, attach and portforward through
 * pkg/apiserver/node-proxy.ts and passes every other request through unchanged. It stands in for
 * the apiserver's own hooks (handlers.ts for pods/log, the HTTP server's 'upgrade' event for the
 * streams) so node tests can drive the proxy with stock kubectl.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import * as errors from '../../pkg/api/errors.js';
import { closeNodeProxyStreams, handleNodeProxyUpgrade, serveNodeProxy, type NodeProxyLookup } from '../../pkg/apiserver/node-proxy.js';
import { writeKubeconfig } from './apiserver.js';

export interface FrontHandle {
  url: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

/** Pod and Node lookups over the apiserver's REST API. */
export function restLookup(apiUrl: string): NodeProxyLookup {
  const get = async (p: string, resource: string, name: string) => {
    const r = await fetch(apiUrl + p);
    if (r.status === 404) throw errors.notFound({ group: '', resource }, name);
    if (!r.ok) throw errors.internalError(new Error(`${p}: ${r.status}`));
    return r.json();
  };
  return {
    getPod: (ns, name) => get(`/api/v1/namespaces/${ns}/pods/${name}`, 'pods', name),
    getNode: (name) => get(`/api/v1/nodes/${name}`, 'nodes', name),
  };
}

const LOG_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)\/?$/;

export async function startNodeProxyFront(apiUrl: string): Promise<FrontHandle> {
  const lookup = restLookup(apiUrl);
  const api = new URL(apiUrl);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = LOG_PATH.exec(url.pathname);
    if (m) {
      void serveNodeProxy(lookup, { method: req.method ?? 'GET', query: url.searchParams, headers: req.headers }, res, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3]!);
      return;
    }
    const up = http.request({ host: api.hostname, port: api.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    void handleNodeProxyUpgrade(lookup, req, socket, head).then((handled) => {
      if (!handled) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = writeKubeconfig(url);
  return {
    url,
    kubeconfig,
    stop: async () => {
      closeNodeProxyStreams();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
    },
  };
}
