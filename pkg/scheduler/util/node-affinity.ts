/**
 * Node selectors as the scheduler evaluates them (upstream component-helpers nodeaffinity):
 * `spec.nodeSelector`, required node affinity terms (ORed, each ANDing its expressions and
 * fields) and weighted preferred terms, with the operators In, NotIn, Exists, DoesNotExist, Gt
 * and Lt. A term with neither expressions nor fields selects no node.
 */
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod } from '../api-types.js';

function parseInt64(s: string | undefined): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function matchExpression(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const lv = parseInt64(v);
      const rv = parseInt64(values[0]);
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'Gt' ? lv > rv : lv < rv;
    }
    default:
      return false;
  }
}

function matchField(r: NodeSelectorRequirement, node: Node): boolean {
  // metadata.name is the only field selector nodes support.
  if (r.key !== 'metadata.name') return false;
  const name = node.metadata?.name ?? '';
  const values = r.values ?? [];
  if (r.operator === 'In') return values.length === 1 && values[0] === name;
  if (r.operator === 'NotIn') return values.length === 1 && values[0] !== name;
  return false;
}

export function matchTerm(t: NodeSelectorTerm | undefined, node: Node): boolean {
  if (!t) return false;
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return exprs.every((r) => matchExpression(r, labels)) && fields.every((r) => matchField(r, node));
}

export function matchNodeSelector(sel: NodeSelector | undefined, node: Node): boolean {
  return (sel?.nodeSelectorTerms ?? []).some((t) => matchTerm(t, node));
}

/** spec.nodeSelector and required node affinity: both must hold (upstream RequiredNodeAffinity). */
export function podMatchesNodeSelectorAndAffinityTerms(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !matchNodeSelector(req, node)) return false;
  return true;
}
