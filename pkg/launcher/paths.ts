/** Where the launcher keeps things, and how it finds the repository's built binaries. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this module with a package.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the keelson repository root');
    dir = up;
  }
  return dir;
}

/** The compiled entry point of a binary, next to this module's own build (dist/ or an outDir). */
export function binary(name: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // here = <out>/pkg/launcher
  return path.resolve(here, '..', '..', 'cmd', name, 'main.js');
}

export interface StateLayout {
  root: string;
  pki: string;
  etcd: string;
  images: string;
  node(name: string): { dir: string; containerdRoot: string; containerdState: string; socket: string; runcRoot: string; kubeletRoot: string; cniConf: string; cniHandoffConf: string; cniCache: string; ipam: string; podLogs: string; config: string };
}

export function stateLayout(root: string): StateLayout {
  return {
    root,
    pki: path.join(root, 'pki'),
    etcd: path.join(root, 'etcd'),
    images: path.join(root, 'images'),
    node(name) {
      const dir = path.join(root, 'nodes', name);
      return {
        dir,
        containerdRoot: path.join(dir, 'containerd', 'root'),
        // containerd's state holds sockets: keep the path short (unix sockets stop at 108 bytes).
        containerdState: path.join('/run/keelson', name, 'containerd'),
        socket: path.join('/run/keelson', name, 'containerd.sock'),
        runcRoot: path.join('/run/keelson', name, 'runc'),
        kubeletRoot: path.join(dir, 'kubelet'),
        cniConf: path.join(dir, 'cni', 'net.d'),
        cniHandoffConf: path.join(dir, 'cni', 'handoff.d'),
        cniCache: path.join(dir, 'cni', 'cache'),
        ipam: path.join(dir, 'cni', 'ipam'),
        podLogs: path.join(dir, 'pods'),
        config: path.join(dir, 'containerd.toml'),
      };
    },
  };
}

/** Reads a KEY=value file such as hack/images/build.sh's images.env. */
export function readEnvFile(f: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
