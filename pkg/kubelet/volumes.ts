/**
 * Pod volumes on the node, under <root-dir>/pods/<uid>/volumes/<plugin>/<name> as upstream lays
 * them out: emptyDir (a directory, or tmpfs for medium Memory), hostPath (with its type checks),
 * and configMap, secret, downwardAPI and projected volumes, written atomically (a timestamped
 * directory behind a `..data` symlink, as upstream's AtomicWriter does) so a container never sees
 * a half-updated volume. Secret and projected volumes live on tmpfs. Contents are refreshed on
 * every pod sync, so ConfigMap and Secret updates reach running pods.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pod, Volume } from './types.js';
import type { ObjectSource } from './object-source.js';
import { ContainerConfigError, podFieldValue, resourceFieldValue, type NodeAllocatable } from './env.js';
import type { Clock } from './config.js';
import { memoryBytes } from './resources.js';

const run = promisify(execFile);

/** A volume that could not be set up: the pod waits in ContainerCreating (event FailedMount). */
export class VolumeError extends Error {}

export interface MountedVolume {
  hostPath: string;
  /** configMap, secret, downwardAPI and projected volumes are always mounted read-only. */
  forceReadOnly: boolean;
}

interface Payload {
  data: Buffer;
  mode: number;
}

const PLUGIN_DIRS: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

/** The mount points in this mount namespace (from /proc/self/mountinfo). */
function mountPoints(): Set<string> {
  const out = new Set<string>();
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f.length > 4) out.add(f[4]!.replace(/\\040/g, ' '));
    }
  } catch {
    // not Linux: nothing is mounted
  }
  return out;
}

export interface VolumeContext {
  hostIP: string;
  podIPs: string[];
  node: NodeAllocatable;
}

export class VolumeManager {
  private readonly tokens = new Map<string, { token: string; refreshAt: number }>();

  constructor(
    private readonly rootDir: string,
    private readonly objects: ObjectSource,
    private readonly clock: Clock,
  ) {}

  podDir(uid: string): string {
    return path.join(this.rootDir, 'pods', uid);
  }

  /** The pod uids that have a directory on this node. */
  podDirs(): string[] {
    try {
      return fs.readdirSync(path.join(this.rootDir, 'pods'));
    } catch {
      return [];
    }
  }

  /** Sets up (or refreshes) every volume of the pod and answers where each one is on the host. */
  async setUp(pod: Pod, ctx: VolumeContext): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata!.uid!;
    const out = new Map<string, MountedVolume>();
    fs.mkdirSync(path.join(this.podDir(uid), 'volumes'), { recursive: true, mode: 0o750 });
    for (const v of pod.spec?.volumes ?? []) {
      try {
        out.set(v.name, await this.setUpOne(pod, v, ctx));
      } catch (e) {
        if (e instanceof VolumeError) throw e;
        throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
      }
    }
    return out;
  }

  private volumeDir(uid: string, plugin: string, name: string): string {
    return path.join(this.podDir(uid), 'volumes', PLUGIN_DIRS[plugin]!, name);
  }

  private async setUpOne(pod: Pod, v: Volume, ctx: VolumeContext): Promise<MountedVolume> {
    const uid = pod.metadata!.uid!;
    const ns = pod.metadata!.namespace!;
    if (v.hostPath) return { hostPath: checkHostPath(v.hostPath.path, v.hostPath.type ?? ''), forceReadOnly: false };
    if (v.emptyDir) {
      const dir = this.volumeDir(uid, 'emptyDir', v.name);
      fs.mkdirSync(dir, { recursive: true });
      if (v.emptyDir.medium === 'Memory') {
        // tmpfs takes a byte count; sizeLimit is a Kubernetes quantity (8Mi).
        const size = String((v.emptyDir.sizeLimit !== undefined && memoryBytes(v.emptyDir.sizeLimit)) || ctx.node.memoryBytes);
        await ensureTmpfs(dir, size);
      }
      fs.chmodSync(dir, 0o777);
      return { hostPath: dir, forceReadOnly: false };
    }
    if (v.configMap) {
      const dir = this.volumeDir(uid, 'configMap', v.name);
      fs.mkdirSync(dir, { recursive: true });
      const files = await this.configMapPayload(ns, v.configMap, v.configMap.defaultMode ?? 0o644);
      writeAtomically(dir, files);
      return { hostPath: dir, forceReadOnly: true };
    }
    if (v.secret) {
      const dir = this.volumeDir(uid, 'secret', v.name);
      fs.mkdirSync(dir, { recursive: true });
      await ensureTmpfs(dir, String(ctx.node.memoryBytes));
      const files = await this.secretPayload(ns, { name: v.secret.secretName, items: v.secret.items, optional: v.secret.optional }, v.secret.defaultMode ?? 0o644);
      writeAtomically(dir, files);
      return { hostPath: dir, forceReadOnly: true };
    }
    if (v.downwardAPI) {
      const dir = this.volumeDir(uid, 'downwardAPI', v.name);
      fs.mkdirSync(dir, { recursive: true });
      writeAtomically(dir, this.downwardPayload(pod, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? 0o644, ctx));
      return { hostPath: dir, forceReadOnly: true };
    }
    if (v.projected) {
      const dir = this.volumeDir(uid, 'projected', v.name);
      fs.mkdirSync(dir, { recursive: true });
      await ensureTmpfs(dir, String(ctx.node.memoryBytes));
      const mode = v.projected.defaultMode ?? 0o644;
      const files = new Map<string, Payload>();
      for (const src of v.projected.sources ?? []) {
        let part: Map<string, Payload> | undefined;
        if (src.configMap) part = await this.configMapPayload(ns, src.configMap, mode);
        else if (src.secret) part = await this.secretPayload(ns, src.secret, mode);
        else if (src.downwardAPI) part = this.downwardPayload(pod, src.downwardAPI.items ?? [], mode, ctx);
        else if (src.serviceAccountToken) part = await this.tokenPayload(pod, src.serviceAccountToken, mode);
        for (const [k, p] of part ?? []) files.set(k, p);
      }
      writeAtomically(dir, files);
      return { hostPath: dir, forceReadOnly: true };
    }
    const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
    throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : volume type ${kind} is not supported by this kubelet`);
  }

  private async configMapPayload(ns: string, src: { name?: string; items?: { key: string; path: string; mode?: number }[]; optional?: boolean }, mode: number): Promise<Map<string, Payload>> {
    const name = src.name ?? '';
    const cm = await this.objects.configMap(ns, name);
    if (!cm) {
      if (src.optional) return new Map();
      throw new Error(`configmap "${name}" not found`);
    }
    const all = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(cm.data ?? {})) all.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) all.set(k, Buffer.from(v, 'base64'));
    return project(all, src.items, mode, src.optional ?? false, `configmap references non-existent config key`);
  }

  private async secretPayload(ns: string, src: { name?: string; items?: { key: string; path: string; mode?: number }[]; optional?: boolean }, mode: number): Promise<Map<string, Payload>> {
    const name = src.name ?? '';
    const s = await this.objects.secret(ns, name);
    if (!s) {
      if (src.optional) return new Map();
      throw new Error(`secret "${name}" not found`);
    }
    const all = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(s.data ?? {})) all.set(k, Buffer.from(String(v), 'base64'));
    return project(all, src.items, mode, src.optional ?? false, `references non-existent secret key`);
  }

  private downwardPayload(pod: Pod, items: { path: string; fieldRef?: { fieldPath: string }; resourceFieldRef?: { containerName?: string; resource: string; divisor?: unknown }; mode?: number }[], mode: number, ctx: VolumeContext): Map<string, Payload> {
    const out = new Map<string, Payload>();
    for (const it of items) {
      let value = '';
      if (it.fieldRef) value = podFieldValue(pod, it.fieldRef.fieldPath, ctx.hostIP, ctx.podIPs);
      else if (it.resourceFieldRef) {
        try {
          value = resourceFieldValue(pod, it.resourceFieldRef, it.resourceFieldRef.containerName ?? '', ctx.node);
        } catch (e) {
          if (e instanceof ContainerConfigError) throw new Error(e.message, { cause: e });
          throw e;
        }
      }
      out.set(cleanPath(it.path), { data: Buffer.from(value, 'utf8'), mode: it.mode ?? mode });
    }
    return out;
  }

  private async tokenPayload(pod: Pod, src: { path: string; audience?: string; expirationSeconds?: number }, mode: number): Promise<Map<string, Payload>> {
    const uid = pod.metadata!.uid!;
    const key = `${uid}/${src.path}/${src.audience ?? ''}`;
    const now = this.clock.now();
    let cached = this.tokens.get(key);
    if (!cached || now >= cached.refreshAt) {
      const sa = pod.spec?.serviceAccountName || 'default';
      const r = await this.objects.serviceAccountToken(pod.metadata!.namespace!, sa, { audience: src.audience, expirationSeconds: src.expirationSeconds, podName: pod.metadata!.name!, podUID: uid });
      // Without the TokenRequest API there is no token to project: the file is left out.
      if (!r) return new Map();
      const ttl = (src.expirationSeconds ?? 3607) * 1000;
      const exp = r.expirationTimestamp ? Date.parse(r.expirationTimestamp) : now + ttl;
      cached = { token: r.token, refreshAt: now + 0.8 * Math.max(0, exp - now) };
      this.tokens.set(key, cached);
    }
    return new Map([[cleanPath(src.path), { data: Buffer.from(cached.token, 'utf8'), mode: mode === 0o644 ? 0o600 : mode }]]);
  }

  /** Unmounts the pod's tmpfs volumes and removes its directory. */
  async tearDown(uid: string): Promise<void> {
    const dir = this.podDir(uid);
    const mounts = [...mountPoints()].filter((m) => m.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', [m]).catch(() => run('umount', ['-l', m]).catch(() => undefined));
    for (const k of [...this.tokens.keys()]) if (k.startsWith(uid + '/')) this.tokens.delete(k);
    // Refuse to delete through a mount that is still there rather than wipe a tmpfs' backing.
    if ([...mountPoints()].some((m) => m.startsWith(dir + '/'))) throw new Error(`volumes of pod ${uid} are still mounted`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A relative path inside a volume: no absolute paths and no `..` components. */
function cleanPath(p: string): string {
  const n = path.posix.normalize(p);
  if (path.posix.isAbsolute(n) || n === '..' || n.startsWith('../') || n.split('/').includes('..')) throw new Error(`invalid path ${JSON.stringify(p)} in volume`);
  return n;
}

function project(all: Map<string, Buffer>, items: { key: string; path: string; mode?: number }[] | undefined, mode: number, optional: boolean, missingMsg: string): Map<string, Payload> {
  const out = new Map<string, Payload>();
  if (!items || items.length === 0) {
    for (const [k, data] of all) out.set(cleanPath(k), { data, mode });
    return out;
  }
  for (const it of items) {
    const data = all.get(it.key);
    if (data === undefined) {
      if (optional) continue;
      throw new Error(`${missingMsg} ${it.key}`);
    }
    out.set(cleanPath(it.path), { data, mode: it.mode ?? mode });
  }
  return out;
}

async function ensureTmpfs(dir: string, size: string): Promise<void> {
  if (mountPoints().has(dir)) return;
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
}

/** hostPath's `type` checks (pkg/volume/hostpath): create what *OrCreate asks for, verify the rest. */
export function checkHostPath(p: string, type: string): string {
  const stat = () => {
    try {
      return fs.statSync(p);
    } catch {
      return undefined;
    }
  };
  switch (type) {
    case '':
      return p;
    case 'DirectoryOrCreate':
      if (!stat()) fs.mkdirSync(p, { recursive: true, mode: 0o755 });
      if (!stat()?.isDirectory()) throw new Error(`hostPath type check failed: ${p} is not a directory`);
      return p;
    case 'Directory':
      if (!stat()?.isDirectory()) throw new Error(`hostPath type check failed: ${p} is not a directory`);
      return p;
    case 'FileOrCreate':
      if (!stat()) {
        fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
        fs.writeFileSync(p, '', { mode: 0o644, flag: 'a' });
      }
      if (!stat()?.isFile()) throw new Error(`hostPath type check failed: ${p} is not a file`);
      return p;
    case 'File':
      if (!stat()?.isFile()) throw new Error(`hostPath type check failed: ${p} is not a file`);
      return p;
    case 'Socket':
      if (!stat()?.isSocket()) throw new Error(`hostPath type check failed: ${p} is not a socket file`);
      return p;
    case 'CharDevice':
      if (!stat()?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${p} is not a character device`);
      return p;
    case 'BlockDevice':
      if (!stat()?.isBlockDevice()) throw new Error(`hostPath type check failed: ${p} is not a block device`);
      return p;
    default:
      throw new Error(`hostPath type ${type} is not supported`);
  }
}

function sameContent(dir: string, files: Map<string, Payload>): boolean {
  const walk = (d: string, prefix: string, acc: string[]) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel, acc);
      else acc.push(rel);
    }
    return acc;
  };
  try {
    const existing = walk(dir, '', []);
    if (existing.length !== files.size) return false;
    for (const [rel, p] of files) {
      const f = path.join(dir, rel);
      if ((fs.statSync(f).mode & 0o777) !== (p.mode & 0o777)) return false;
      if (!fs.readFileSync(f).equals(p.data)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a volume's files so readers see either the old set or the new one: the new set goes into
 * a fresh `..<timestamp>` directory, `..data` is switched to it with one rename, and each
 * top-level name is a symlink through `..data`.
 */
export function writeAtomically(dir: string, files: Map<string, Payload>): void {
  const dataLink = path.join(dir, '..data');
  let current: string | undefined;
  try {
    current = fs.readlinkSync(dataLink);
  } catch {
    current = undefined;
  }
  if (current && sameContent(path.join(dir, current), files)) return;
  const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '');
  const tsName = `..${stamp}.${crypto.randomBytes(4).toString('hex')}`;
  const tsDir = path.join(dir, tsName);
  fs.mkdirSync(tsDir, { mode: 0o755 });
  for (const [rel, p] of files) {
    const f = path.join(tsDir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o755 });
    fs.writeFileSync(f, p.data, { mode: p.mode & 0o777 });
    fs.chmodSync(f, p.mode & 0o777);
  }
  const tmpLink = path.join(dir, '..data_tmp');
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(tsName, tmpLink);
  fs.renameSync(tmpLink, dataLink);
  const top = new Set([...files.keys()].map((k) => k.split('/')[0]!));
  for (const name of top) {
    const link = path.join(dir, name);
    let ok: boolean;
    try {
      ok = fs.readlinkSync(link) === path.join('..data', name);
    } catch {
      ok = false;
    }
    if (!ok) {
      fs.rmSync(link, { force: true, recursive: true });
      fs.symlinkSync(path.join('..data', name), link);
    }
  }
  for (const e of fs.readdirSync(dir)) {
    if (e === '..data' || e === tsName) continue;
    if (e.startsWith('..') || !top.has(e)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  }
}
