/**
 * CNI network configurations as the spec defines them: a network configuration list (`.conflist`)
 * or a single network configuration (`.conf`, `.json`), which is treated as a list of one plugin.
 * The kubelet uses the first file of its conf dir in lexical order, as libcni's
 * ConfFiles/LoadConfList do.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One plugin's configuration: `type` names the binary; everything else is the plugin's own. */
export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
  /** The file it came from, if any. */
  file?: string;
  /** The configuration's bytes as read, kept for the result cache. */
  bytes: string;
}

const CONF_EXTENSIONS = ['.conflist', '.conf', '.json'];

/** Parses a `.conflist` body, or a `.conf` body when `single` is set. Throws on malformed input. */
export function parseNetworkConfig(bytes: string, single: boolean, file?: string): NetworkConfigList {
  let raw: any;
  try {
    raw = JSON.parse(bytes);
  } catch (e) {
    throw new Error(`invalid CNI configuration${file ? ` ${file}` : ''}: ${(e as Error).message}`, { cause: e });
  }
  if (!raw || typeof raw !== 'object') throw new Error(`invalid CNI configuration${file ? ` ${file}` : ''}: not an object`);
  if (typeof raw.name !== 'string' || !raw.name) throw new Error(`invalid CNI configuration${file ? ` ${file}` : ''}: no network name`);
  const cniVersion = typeof raw.cniVersion === 'string' && raw.cniVersion ? raw.cniVersion : '0.1.0';
  if (single || !Array.isArray(raw.plugins)) {
    if (typeof raw.type !== 'string' || !raw.type) throw new Error(`invalid CNI configuration${file ? ` ${file}` : ''}: no plugin type`);
    const { name: _n, cniVersion: _v, ...plugin } = raw;
    return { cniVersion, name: raw.name, plugins: [plugin as PluginConf], file, bytes };
  }
  const plugins = raw.plugins as PluginConf[];
  if (plugins.length === 0) throw new Error(`invalid CNI configuration${file ? ` ${file}` : ''}: no plugins`);
  for (const p of plugins) {
    if (!p || typeof p.type !== 'string' || !p.type) throw new Error(`invalid CNI configuration${file ? ` ${file}` : ''}: a plugin has no type`);
  }
  return { cniVersion, name: raw.name, disableCheck: raw.disableCheck === true, plugins, file, bytes };
}

/** The configuration files of a conf dir, in lexical order. */
export function configFiles(confDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(confDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => CONF_EXTENSIONS.includes(path.extname(n)) && !n.startsWith('.'))
    .sort()
    .map((n) => path.join(confDir, n));
}

/**
 * The network the kubelet uses: the first valid configuration in `confDir`, or null when there is
 * none. Invalid files are skipped (and reported through `onInvalid`), as upstream does.
 */
export function loadFirstNetwork(confDir: string, onInvalid?: (file: string, err: Error) => void): NetworkConfigList | null {
  for (const file of configFiles(confDir)) {
    try {
      const bytes = fs.readFileSync(file, 'utf8');
      return parseNetworkConfig(bytes, path.extname(file) !== '.conflist', file);
    } catch (e) {
      onInvalid?.(file, e as Error);
    }
  }
  return null;
}

/** Compares CNI spec versions (`0.3.1` < `0.4.0` < `1.0.0`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number(x) || 0);
  const pb = b.split('.').map((x) => Number(x) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
