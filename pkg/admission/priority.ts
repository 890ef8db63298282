/**
 * Priority: a pod's priorityClassName becomes its integer priority and preemptionPolicy (the
 * global default PriorityClass, if any, for pods that name none), and at most one PriorityClass
 * may be the global default. The two system classes are created at apiserver start.
 */
import * as errors from '../api/errors.js';
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from '../auth/cluster-state.js';
import type { RegistryStore } from '../registry/store.js';
import type { Registry } from '../registry/registry.js';
import type { AdmissionPlugin } from './types.js';
import { forbidden, isResource } from './util.js';

const schedulingGroup = 'scheduling.k8s.io';

export const systemPriorityClasses = [
  { name: 'system-node-critical', value: 2000001000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2000000000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

function globalDefault(classes: StoredObject[]): StoredObject | undefined {
  let best: StoredObject | undefined;
  for (const pc of classes) if (pc.globalDefault && (!best || (pc.value ?? 0) > (best.value ?? 0))) best = pc;
  return best;
}

export function priority(state: ClusterState): AdmissionPlugin {
  const lookup = async (name: string): Promise<StoredObject | undefined> => {
    const cached = state.get(schedulingGroup, 'priorityclasses', undefined, name);
    if (cached) return cached;
    const d = state.def(schedulingGroup, 'priorityclasses');
    if (!d || !state.store) return undefined;
    try {
      return await state.store.get(d, undefined, name);
    } catch (e) {
      if (errors.isStatusError(e) && e.code === 404) return undefined;
      throw e;
    }
  };
  // The global default as of the cache's revision: pods without a class would otherwise scan and
  // sort every PriorityClass on each create.
  let defaultMemo: { revision: number; pc: StoredObject | undefined } | undefined;
  const defaultClass = (): StoredObject | undefined => {
    const revision = state.revision(schedulingGroup, 'priorityclasses');
    if (revision > 0 && defaultMemo?.revision === revision) return defaultMemo.pc;
    const pc = globalDefault(state.list(schedulingGroup, 'priorityclasses'));
    defaultMemo = revision > 0 ? { revision, pc } : undefined;
    return pc;
  };
  return {
    name: 'Priority',
    async admit(a) {
      if (a.operation !== 'CREATE' || !isResource(a, '', 'pods') || !a.object) return;
      const spec = (a.object.spec ??= {});
      let pc: StoredObject | undefined;
      if (!spec.priorityClassName) {
        pc = defaultClass();
        if (pc) spec.priorityClassName = pc.metadata.name;
      } else {
        pc = await lookup(spec.priorityClassName);
        if (!pc) throw forbidden(a, `no PriorityClass with name ${spec.priorityClassName} was found`);
      }
      const value: number = pc?.value ?? 0;
      const policy: string = pc?.preemptionPolicy ?? 'PreemptLowerPriority';
      if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
        throw forbidden(a, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
      }
      spec.priority = value;
      if (spec.preemptionPolicy && pc && spec.preemptionPolicy !== policy) {
        throw forbidden(a, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
      }
      spec.preemptionPolicy = policy;
    },
    validate(a) {
      if ((a.operation !== 'CREATE' && a.operation !== 'UPDATE') || !isResource(a, schedulingGroup, 'priorityclasses') || !a.object?.globalDefault) return;
      const other = state.list(schedulingGroup, 'priorityclasses').find((pc) => pc.globalDefault && pc.metadata.name !== a.name);
      if (other) throw forbidden(a, `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`);
    },
  };
}

/** Creates system-node-critical and system-cluster-critical if missing (upstream's scheduling bootstrap). */
export async function ensureSystemPriorityClasses(store: RegistryStore, registry: Registry): Promise<void> {
  const d = registry.lookup(schedulingGroup, 'v1', 'priorityclasses');
  if (!d) return;
  for (const pc of systemPriorityClasses) {
    try {
      await store.create(d, undefined, { apiVersion: `${schedulingGroup}/v1`, kind: 'PriorityClass', metadata: { name: pc.name }, value: pc.value, description: pc.description });
    } catch (e) {
      if (!(errors.isStatusError(e) && e.code === 409)) throw e;
    }
  }
}
