/**
 * Writes the default RBAC policy at apiserver start (upstream's rbac/bootstrap-roles post-start
 * hook), and keeps aggregated ClusterRoles (admin, edit, view, and any with an aggregationRule)
 * filled in (upstream's clusterrole-aggregation controller, run here inside the apiserver so a
 * cluster without a controller-manager still gets working admin/edit/view roles).
 */
import type { Logger } from 'pino';
import * as errors from '../../api/errors.js';
import { deepEqual, clone } from '../../api/meta.js';
import type { KubeObject, StoredObject } from '../../api/types.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { RegistryStore } from '../../registry/store.js';
import type { Registry } from '../../registry/registry.js';
import type { ResourceDef } from '../../registry/types.js';
import { bootstrapClusterRoles, bootstrapClusterRoleBindings, bootstrapNamespaceRoles } from './bootstrap-policy.js';
import type { PolicyRule } from './rules.js';

const rbacGroup = 'rbac.authorization.k8s.io';

function def(registry: Registry, plural: string): ResourceDef {
  const d = registry.lookup(rbacGroup, 'v1', plural);
  if (!d) throw new Error(`${plural}.${rbacGroup}/v1 is not registered`);
  return d;
}

/**
 * Creates what is missing; for objects still annotated `rbac.authorization.kubernetes.io/autoupdate:
 * "true"`, adds the default rules or subjects they lack (never removes anything), as upstream reconciles.
 */
async function reconcile(store: RegistryStore, d: ResourceDef, obj: KubeObject, field: 'rules' | 'subjects', logger?: Logger): Promise<void> {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata!.name!;
  // A restart finds everything in place: answer from the cache without touching etcd.
  const cached = store.cache(d).get(ns, name);
  if (cached && !needsReconcile(cached, obj, field)) return;
  try {
    await store.create(d, ns, obj);
    logger?.info({ kind: d.kind, name: ns ? `${ns}/${name}` : name }, 'created bootstrap RBAC object');
    return;
  } catch (e) {
    if (!(errors.isStatusError(e) && e.code === 409)) throw e;
  }
  await store.guaranteedUpdate(d, ns, name, undefined, (cur) => {
    if (!needsReconcile(cur, obj, field)) return cur;
    return { ...cur, [field]: [...have(cur, field), ...missingOf(cur, obj, field)] };
  });
}

function have(cur: StoredObject, field: 'rules' | 'subjects'): unknown[] {
  return Array.isArray(cur[field]) ? cur[field] : [];
}

function missingOf(cur: StoredObject, want: KubeObject, field: 'rules' | 'subjects'): unknown[] {
  const h = have(cur, field);
  return ((want[field] as unknown[]) ?? []).filter((x) => !h.some((y) => deepEqual(y, x)));
}

/** Whether an existing object lacks default rules or subjects it should get (autoupdate on, not aggregated). */
function needsReconcile(cur: StoredObject, want: KubeObject, field: 'rules' | 'subjects'): boolean {
  if (cur.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] !== 'true') return false;
  if (field === 'rules' && want.aggregationRule) return false;
  return missingOf(cur, want, field).length > 0;
}

/** Creates or reconciles every bootstrap ClusterRole, ClusterRoleBinding, Role and RoleBinding. Idempotent. */
export async function ensureBootstrapPolicy(store: RegistryStore, registry: Registry, logger?: Logger): Promise<void> {
  const cr = def(registry, 'clusterroles');
  const crb = def(registry, 'clusterrolebindings');
  const role = def(registry, 'roles');
  const rb = def(registry, 'rolebindings');
  for (const o of bootstrapClusterRoles()) await reconcile(store, cr, o, 'rules', logger);
  for (const o of bootstrapClusterRoleBindings()) await reconcile(store, crb, o, 'subjects', logger);
  const nsPolicy = bootstrapNamespaceRoles();
  for (const o of nsPolicy.roles) await reconcile(store, role, o, 'rules', logger);
  for (const o of nsPolicy.bindings) await reconcile(store, rb, o, 'subjects', logger);
}

/** The rules an aggregated ClusterRole should hold: those of every ClusterRole its selectors match. */
export function aggregatedRules(target: StoredObject, all: StoredObject[]): PolicyRule[] {
  const selectors = (target.aggregationRule?.clusterRoleSelectors ?? []).map((s: unknown) => labelSelectorAsSelector(s as never));
  const rules: PolicyRule[] = [];
  const sorted = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  for (const o of sorted) {
    if (o.metadata.name === target.metadata.name) continue;
    if (!selectors.some((s: ReturnType<typeof labelSelectorAsSelector>) => s.matches(o.metadata.labels))) continue;
    for (const r of (o.rules ?? []) as PolicyRule[]) if (!rules.some((x) => deepEqual(x, r))) rules.push(clone(r));
  }
  return rules;
}

/**
 * Runs the ClusterRole aggregation loop until `signal` aborts: on every change to ClusterRoles,
 * each aggregated role's rules are recomputed and written if they differ.
 */
export async function runClusterRoleAggregation(store: RegistryStore, registry: Registry, signal: AbortSignal, logger?: Logger): Promise<void> {
  const d = def(registry, 'clusterroles');
  const cache = store.cache(d);
  await cache.ready;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const sync = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const all = cache.list().items;
        for (const target of all) {
          if (!target.aggregationRule) continue;
          const want = aggregatedRules(target, all);
          if (deepEqual(target.rules ?? [], want)) continue;
          try {
            await store.guaranteedUpdate(d, undefined, target.metadata.name!, undefined, (cur) => ({ ...cur, rules: aggregatedRules(cur, cache.list().items) }));
          } catch (e) {
            if (!(errors.isStatusError(e) && e.code === 404)) logger?.warn({ err: String(e), name: target.metadata.name }, 'clusterrole aggregation failed');
          }
        }
      } while (again && !signal.aborted);
    } finally {
      running = false;
    }
  };
  const schedule = () => {
    if (signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => void sync(), 50);
  };
  const unsubscribe = cache.subscribe(cache.revision, schedule);
  schedule();
  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      unsubscribe?.();
    },
    { once: true },
  );
}
