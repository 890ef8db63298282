/**
 * RBAC privilege-escalation prevention (upstream's policybased role and binding storage): a user
 * may write a Role or ClusterRole only with rules it already holds (or with the `escalate` verb on
 * it), and may bind a role only if it holds the role's rules (or has the `bind` verb on it).
 * Runs as a validating admission plugin, so every write path (create, update, patch, apply) is
 * covered. Writes by the apiserver itself (no user) and by system:masters are not checked.
 */
import type { StoredObject } from '../../api/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../../admission/types.js';
import { forbidden } from '../../admission/util.js';
import type { Authorizer, UserInfo } from '../types.js';
import type { ClusterState } from '../cluster-state.js';
import type { RBACAuthorizer } from './authorizer.js';
import { apiGroupMatches, nonResourceURLMatches, resourceMatches, resourceNameMatches, verbMatches, type PolicyRule } from './rules.js';

const rbacGroup = 'rbac.authorization.k8s.io';

/** One verb on one group/resource/name, or one verb on one URL. */
function atomize(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs) {
    for (const url of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
        for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], ...(name ? { resourceNames: [name] } : {}) });
      }
    }
  }
  return out;
}

/** Whether one owner rule grants everything an atomic rule does (a `*` is only covered by `*`). */
function covers(owner: PolicyRule, atom: PolicyRule): boolean {
  if (!verbMatches(owner, atom.verbs[0]!)) return false;
  if (atom.nonResourceURLs?.length) {
    const url = atom.nonResourceURLs[0]!;
    if (url.endsWith('*')) return (owner.nonResourceURLs ?? []).some((u) => u === '*' || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
    return nonResourceURLMatches(owner, url);
  }
  if (!apiGroupMatches(owner, atom.apiGroups![0]!)) return false;
  const res = atom.resources![0]!;
  const slash = res.indexOf('/');
  const ok = slash < 0 ? resourceMatches(owner, res) : resourceMatches(owner, res.slice(0, slash), res.slice(slash + 1));
  if (!ok) return false;
  const name = atom.resourceNames?.[0];
  return name === undefined ? !(owner.resourceNames?.length) : resourceNameMatches(owner, name);
}

/** The servant rules, atomised, that no owner rule covers. */
export function uncovered(owner: PolicyRule[], servant: PolicyRule[]): PolicyRule[] {
  return servant.flatMap(atomize).filter((atom) => !owner.some((o) => covers(o, atom)));
}

function compact(r: PolicyRule): string {
  const q = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

function escalationMessage(user: UserInfo, missing: PolicyRule[]): string {
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  return `user ${JSON.stringify(user.username)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${[...new Set(missing.map(compact))].sort().join('\n')}`;
}

export function rbacEscalationCheck(authorizer: Authorizer, rbac: RBACAuthorizer, state: ClusterState): AdmissionPlugin {
  const allowedVerb = async (user: UserInfo, verb: string, a: AdmissionAttributes, resource: string, name: string, namespace?: string) => {
    const d = await authorizer.authorize({ user, verb, isResourceRequest: true, path: '', apiGroup: rbacGroup, apiVersion: 'v1', resource, name, namespace });
    return d.decision === 'allow';
  };
  const roleRules = (ref: { kind?: string; name?: string }, namespace: string | undefined): PolicyRule[] | undefined => {
    const o: StoredObject | undefined = ref.kind === 'ClusterRole' ? state.get(rbacGroup, 'clusterroles', undefined, ref.name ?? '') : state.get(rbacGroup, 'roles', namespace, ref.name ?? '');
    return o ? ((o.rules ?? []) as PolicyRule[]) : undefined;
  };
  return {
    name: 'RBACEscalationCheck',
    async validate(a) {
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (a.def.group !== rbacGroup || !a.object || !a.user) return;
      const user = a.user;
      if (user.groups.includes('system:masters')) return;
      const ns = a.namespace;
      if (a.def.plural === 'roles' || a.def.plural === 'clusterroles') {
        if (await allowedVerb(user, 'escalate', a, a.def.plural, a.name, ns)) return;
        if (a.def.plural === 'clusterroles' && a.object.aggregationRule) throw forbidden(a, 'must have cluster-admin privileges to use an aggregationRule');
        const missing = uncovered(rbac.rulesFor(user, ns), (a.object.rules ?? []) as PolicyRule[]);
        if (missing.length) throw forbidden(a, escalationMessage(user, missing));
        return;
      }
      if (a.def.plural === 'rolebindings' || a.def.plural === 'clusterrolebindings') {
        const ref = a.object.roleRef ?? {};
        const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
        if (await allowedVerb(user, 'bind', a, refResource, ref.name ?? '', ref.kind === 'ClusterRole' ? undefined : ns)) return;
        // Binding changes that leave roleRef alone (subjects only) still need the role's rules.
        const rules = roleRules(ref, ns);
        if (!rules) throw forbidden(a, `${ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles'}.${rbacGroup} "${ref.name}" not found`);
        const missing = uncovered(rbac.rulesFor(user, ns), rules);
        if (missing.length) throw forbidden(a, escalationMessage(user, missing));
      }
    },
  };
}
