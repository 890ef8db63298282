/**
 * The RBAC authorizer (upstream's plugin/pkg/auth/authorizer/rbac), evaluated from the apiserver's
 * watch caches of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
 *
 * An index (roles by name, bindings by namespace) is rebuilt lazily when any of the four caches
 * has moved on, so a request costs a walk over the bindings that could apply to it. RBAC only
 * ever allows: when nothing grants a request it has no opinion and the chain denies.
 */
import type { StoredObject } from '../../api/types.js';
import type { ClusterState } from '../cluster-state.js';
import type { AuthorizationAttributes, Authorizer, Decision, UserInfo } from '../types.js';
import { ruleAllows, subjectMatches, type PolicyRule, type Subject } from './rules.js';

const rbacGroup = 'rbac.authorization.k8s.io';

interface Binding {
  namespace?: string;
  roleRef: { kind: string; name: string };
  subjects: Subject[];
}

interface Index {
  revisions: string;
  clusterRoles: Map<string, PolicyRule[]>;
  roles: Map<string, PolicyRule[]>;
  clusterRoleBindings: Binding[];
  roleBindings: Map<string, Binding[]>;
}

function rulesOf(o: StoredObject): PolicyRule[] {
  return Array.isArray(o.rules) ? (o.rules as PolicyRule[]) : [];
}

function bindingOf(o: StoredObject): Binding {
  return { namespace: o.metadata.namespace, roleRef: o.roleRef ?? { kind: '', name: '' }, subjects: Array.isArray(o.subjects) ? o.subjects : [] };
}

/** The request as RBAC sees it: a namespace object is in its own namespace, as upstream's RequestInfo has it. */
function normalize(a: AuthorizationAttributes): AuthorizationAttributes {
  if (a.isResourceRequest && a.apiGroup === '' && a.resource === 'namespaces' && a.name && !a.namespace) return { ...a, namespace: a.name };
  return a;
}

export class RBACAuthorizer implements Authorizer {
  private index: Index | undefined;

  constructor(private readonly state: ClusterState) {}

  private currentIndex(): Index {
    const st = this.state;
    const revisions = ['clusterroles', 'roles', 'clusterrolebindings', 'rolebindings'].map((r) => st.revision(rbacGroup, r)).join('/');
    if (this.index && this.index.revisions === revisions) return this.index;
    const idx: Index = { revisions, clusterRoles: new Map(), roles: new Map(), clusterRoleBindings: [], roleBindings: new Map() };
    for (const o of st.list(rbacGroup, 'clusterroles')) idx.clusterRoles.set(o.metadata.name!, rulesOf(o));
    for (const o of st.list(rbacGroup, 'roles')) idx.roles.set(`${o.metadata.namespace}/${o.metadata.name}`, rulesOf(o));
    for (const o of st.list(rbacGroup, 'clusterrolebindings')) idx.clusterRoleBindings.push(bindingOf(o));
    for (const o of st.list(rbacGroup, 'rolebindings')) {
      const ns = o.metadata.namespace!;
      let l = idx.roleBindings.get(ns);
      if (!l) idx.roleBindings.set(ns, (l = []));
      l.push(bindingOf(o));
    }
    this.index = idx;
    return idx;
  }

  private roleRules(idx: Index, b: Binding): PolicyRule[] {
    if (b.roleRef.kind === 'ClusterRole') return idx.clusterRoles.get(b.roleRef.name) ?? [];
    if (b.roleRef.kind === 'Role' && b.namespace) return idx.roles.get(`${b.namespace}/${b.roleRef.name}`) ?? [];
    return [];
  }

  /**
   * Visits the rules that apply to a user in a namespace (cluster-wide ones first); the visitor
   * returns false to stop. Namespace "" visits only cluster-wide rules.
   */
  visitRules(user: UserInfo, namespace: string | undefined, visit: (rule: PolicyRule, source: string) => boolean): void {
    const idx = this.currentIndex();
    for (const b of idx.clusterRoleBindings) {
      if (!b.subjects.some((s) => subjectMatches(s, user))) continue;
      for (const r of this.roleRules(idx, b)) if (!visit(r, `ClusterRoleBinding/${b.roleRef.name}`)) return;
    }
    if (!namespace) return;
    for (const b of idx.roleBindings.get(namespace) ?? []) {
      if (!b.subjects.some((s) => subjectMatches(s, user, namespace))) continue;
      for (const r of this.roleRules(idx, b)) if (!visit(r, `RoleBinding/${namespace}/${b.roleRef.name}`)) return;
    }
  }

  /** Every rule that applies to the user in the namespace (for SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const out: PolicyRule[] = [];
    this.visitRules(user, namespace, (r) => {
      out.push(r);
      return true;
    });
    return out;
  }

  authorize(attrs: AuthorizationAttributes): Decision {
    const a = normalize(attrs);
    let allowed = false;
    this.visitRules(a.user, a.isResourceRequest ? a.namespace : undefined, (r) => {
      if (ruleAllows(a, r)) allowed = true;
      return !allowed;
    });
    return allowed ? { decision: 'allow' } : { decision: 'noOpinion' };
  }
}
