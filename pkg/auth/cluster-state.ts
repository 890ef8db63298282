/**
 * Cached reads of cluster objects for authenticators, authorizers and admission plugins: the
 * apiserver's own watch caches (upstream's informers inside kube-apiserver). The store exists only
 * once the apiserver runs, so the state is bound then (`bind`), and reads before that see nothing.
 */
import type { StoredObject } from '../api/types.js';
import type { RegistryStore } from '../registry/store.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/types.js';

export class ClusterState {
  store: RegistryStore | undefined;
  registry: Registry | undefined;
  private readonly defs = new Map<string, ResourceDef | undefined>();

  toJSON(): unknown {
    return { bound: !!this.store };
  }

  bind(store: RegistryStore, registry: Registry): void {
    this.store = store;
    this.registry = registry;
    this.defs.clear();
  }

  /** The served definition of group/plural (the first registered version). */
  def(group: string, plural: string): ResourceDef | undefined {
    const k = `${group}/${plural}`;
    if (!this.defs.has(k)) this.defs.set(k, this.registry?.defs.find((d) => d.group === group && d.plural === plural && !d.conversion));
    return this.defs.get(k);
  }

  get(group: string, plural: string, namespace: string | undefined, name: string): StoredObject | undefined {
    const d = this.def(group, plural);
    if (!d || !this.store) return undefined;
    return this.store.cache(d).get(d.namespaced ? namespace : undefined, name);
  }

  list(group: string, plural: string, namespace?: string): StoredObject[] {
    const d = this.def(group, plural);
    if (!d || !this.store) return [];
    return this.store.cache(d).list(undefined, namespace).items;
  }

  /** The cache's revision: cheap change detection for derived indexes. */
  revision(group: string, plural: string): number {
    const d = this.def(group, plural);
    if (!d || !this.store) return 0;
    return this.store.cache(d).revision;
  }

  /** Waits until the cache of group/plural has loaded. */
  async ready(group: string, plural: string): Promise<void> {
    const d = this.def(group, plural);
    if (d && this.store) await this.store.cache(d).ready;
  }
}
