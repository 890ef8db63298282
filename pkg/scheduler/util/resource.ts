/**
 * Compute resources as the scheduler counts them (upstream framework.Resource): cpu in
 * millicores, memory and ephemeral storage in bytes, the pod count, and scalar resources
 * (extended resources, hugepages) in whole units.
 */
import { parseQuantity, quantityMilliValue, quantityValue } from '../../api/quantity.js';
import type { Container, Pod } from '../api-types.js';

export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export type ResourceList = Record<string, string | number> | undefined;

export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  scalar = new Map<string, number>();

  static from(list: ResourceList): Resource {
    const r = new Resource();
    r.add(list);
    return r;
  }

  add(list: ResourceList): void {
    for (const [name, q] of Object.entries(list ?? {})) this.addValue(name, quantityFor(name, q));
  }

  private addValue(name: string, v: number): void {
    switch (name) {
      case 'cpu':
        this.milliCPU += v;
        break;
      case 'memory':
        this.memory += v;
        break;
      case 'ephemeral-storage':
        this.ephemeralStorage += v;
        break;
      case 'pods':
        this.allowedPodNumber += v;
        break;
      default:
        if (isScalarResourceName(name)) this.scalar.set(name, (this.scalar.get(name) ?? 0) + v);
    }
  }

  /** Adds another Resource (pods count excluded, as upstream's Add of a requests sum). */
  addResource(o: Resource, sign = 1): void {
    this.milliCPU += sign * o.milliCPU;
    this.memory += sign * o.memory;
    this.ephemeralStorage += sign * o.ephemeralStorage;
    for (const [k, v] of o.scalar) this.scalar.set(k, (this.scalar.get(k) ?? 0) + sign * v);
  }

  /** Each dimension becomes the larger of the two. */
  setMax(o: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, o.milliCPU);
    this.memory = Math.max(this.memory, o.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, o.ephemeralStorage);
    for (const [k, v] of o.scalar) this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
  }

  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    r.scalar = new Map(this.scalar);
    return r;
  }

  /** The value of one named resource in the units the scorers use. */
  get(name: string): number {
    switch (name) {
      case 'cpu':
        return this.milliCPU;
      case 'memory':
        return this.memory;
      case 'ephemeral-storage':
        return this.ephemeralStorage;
      case 'pods':
        return this.allowedPodNumber;
      default:
        return this.scalar.get(name) ?? 0;
    }
  }

  isZero(): boolean {
    return this.milliCPU === 0 && this.memory === 0 && this.ephemeralStorage === 0 && [...this.scalar.values()].every((v) => v === 0);
  }
}

const quantityCache = new Map<string, number>();

/** cpu in millicores, everything else in whole units rounded up; unparsable values count as 0. */
export function quantityFor(name: string, q: string | number): number {
  const key = `${name === 'cpu' ? 'm' : 'v'}${q}`;
  let v = quantityCache.get(key);
  if (v === undefined) {
    try {
      const p = parseQuantity(q);
      v = Number(name === 'cpu' ? quantityMilliValue(p) : quantityValue(p));
    } catch {
      v = 0;
    }
    if (quantityCache.size > 10_000) quantityCache.clear();
    quantityCache.set(key, v);
  }
  return v;
}

/** Extended resources, hugepages and attachable volumes: counted by name. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  // Extended resources (example.com/gpu) and prefixed native ones (kubernetes.io/…).
  return name.includes('/');
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const req = (c.resources?.requests ?? {}) as Record<string, string>;
  const r = Resource.from(req);
  if (nonZero) {
    if (!('cpu' in req)) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!('memory' in req)) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective request (upstream resource.PodRequests): the sum of its containers and
 * sidecars (restartable init containers), at least as large as any init container plus the
 * sidecars started before it, plus the pod overhead. With `nonZero`, containers that request no
 * cpu or memory count as 100m and 200Mi, which is what the scorers use.
 */
export function computePodRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec;
  const total = new Resource();
  for (const c of spec?.containers ?? []) total.addResource(containerRequests(c, nonZero));
  const sidecars = new Resource();
  const initMax = new Resource();
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      total.addResource(r);
      sidecars.addResource(r);
      initMax.setMax(sidecars);
    } else {
      const withSidecars = r.clone();
      withSidecars.addResource(sidecars);
      initMax.setMax(withSidecars);
    }
  }
  total.setMax(initMax);
  if (spec?.overhead) total.add(spec.overhead as Record<string, string>);
  return total;
}
