/** An in-memory ClusterState for unit tests of authenticators, authorizers and admission plugins. */
import type { StoredObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import { builtinResources } from '../registry/resources.js';
import { ClusterState } from './cluster-state.js';

export class FakeClusterState extends ClusterState {
  private readonly objects = new Map<string, StoredObject[]>();
  private rev = 1;

  /** Adds objects of group/plural (replacing one with the same namespace and name). */
  add(group: string, plural: string, ...objs: StoredObject[]): this {
    const k = `${group}/${plural}`;
    const l = this.objects.get(k) ?? [];
    for (const o of objs) {
      const i = l.findIndex((x) => x.metadata.name === o.metadata.name && x.metadata.namespace === o.metadata.namespace);
      if (i >= 0) l[i] = o;
      else l.push(o);
    }
    this.objects.set(k, l);
    this.rev++;
    return this;
  }

  remove(group: string, plural: string, namespace: string | undefined, name: string): this {
    const k = `${group}/${plural}`;
    this.objects.set(k, (this.objects.get(k) ?? []).filter((o) => !(o.metadata.name === name && o.metadata.namespace === namespace)));
    this.rev++;
    return this;
  }

  override def(group: string, plural: string): ResourceDef | undefined {
    return builtinResources.find((d) => d.group === group && d.plural === plural);
  }

  override get(group: string, plural: string, namespace: string | undefined, name: string): StoredObject | undefined {
    return (this.objects.get(`${group}/${plural}`) ?? []).find((o) => o.metadata.name === name && (o.metadata.namespace ?? undefined) === (namespace || undefined));
  }

  override list(group: string, plural: string, namespace?: string): StoredObject[] {
    return (this.objects.get(`${group}/${plural}`) ?? []).filter((o) => !namespace || o.metadata.namespace === namespace);
  }

  override revision(): number {
    return this.rev;
  }
}
