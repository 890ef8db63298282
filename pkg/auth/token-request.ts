/**
 * POST serviceaccounts/<name>/token (TokenRequest, authentication.k8s.io/v1): what
 * `kubectl create token` and the kubelet call (upstream's pkg/registry/core/serviceaccount/storage/token.go).
 */
import * as errors from '../api/errors.js';
import { nowRFC3339 } from '../api/meta.js';
import type { StoredObject } from '../api/types.js';
import type { CustomCreateRequest, CustomResponse } from '../registry/types.js';
import type { ClusterState } from './cluster-state.js';
import type { ServiceAccountTokenIssuer, BoundObject } from './serviceaccount.js';
import { nodeNameOf } from './node-identity.js';

export interface TokenRequestDeps {
  state: ClusterState;
  issuer: ServiceAccountTokenIssuer;
  /** Default audiences of a token that names none (`--api-audiences`, else the issuer). */
  apiAudiences: string[];
  /** `--service-account-extend-token-expiration` (default true). */
  extendKubeletTokens?: boolean;
}

const trGK = { group: 'authentication.k8s.io', kind: 'TokenRequest' };

/** The cached object, else a real read (the cache may not have caught up with a fresh object). */
async function read(state: ClusterState, plural: string, namespace: string | undefined, name: string): Promise<StoredObject> {
  const cached = state.get('', plural, namespace, name);
  if (cached) return cached;
  const d = state.def('', plural);
  if (!d || !state.store) throw errors.notFound({ group: '', resource: plural }, name);
  return state.store.get(d, namespace, name);
}

/** What the kubelet asks for its projected tokens; upstream extends such tokens to a year. */
export const kubeletTokenSeconds = 3607;
const extendedTokenSeconds = 365 * 24 * 3600;

/** The handler for `subresourceCreate.token` on the serviceaccounts resource. */
export function tokenRequestHandler(deps: TokenRequestDeps): (req: CustomCreateRequest) => Promise<CustomResponse> {
  return async (req) => {
    const ns = req.namespace!;
    const name = req.name!;
    const body = req.body ?? {};
    if (body.kind && body.kind !== 'TokenRequest') throw errors.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (TokenRequest)`);
    const spec = { ...(body.spec ?? {}) } as { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } };
    if (!spec.audiences || spec.audiences.length === 0) spec.audiences = [...deps.apiAudiences];
    if (spec.expirationSeconds === undefined || spec.expirationSeconds === null) spec.expirationSeconds = 3600;
    const exp = Number(spec.expirationSeconds);
    if (!Number.isInteger(exp) || exp < 600) {
      throw errors.invalid(trGK, name, [{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: spec.expirationSeconds, detail: 'may not specify a duration less than 10 minutes' }]);
    }
    if (exp > 2 ** 32) {
      throw errors.invalid(trGK, name, [{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: spec.expirationSeconds, detail: 'may not specify a duration larger than 2^32 seconds' }]);
    }
    const sa = await read(deps.state, 'serviceaccounts', ns, name);

    let bound: (BoundObject & { nodeName?: string; nodeUID?: string }) | undefined;
    const ref = spec.boundObjectRef;
    if (ref) {
      if (ref.kind !== 'Pod' && ref.kind !== 'Secret' && ref.kind !== 'Node') {
        throw errors.badRequest(`cannot bind token to object of type ${ref.kind}`);
      }
      if (ref.apiVersion && ref.apiVersion !== 'v1') throw errors.badRequest(`cannot bind token to object of type ${ref.apiVersion}, Kind=${ref.kind}`);
      if (!ref.name) throw errors.badRequest('boundObjectRef.name is required');
      const plural = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : 'nodes';
      const obj = await read(deps.state, plural, ref.kind === 'Node' ? undefined : ns, ref.name);
      if (ref.uid && ref.uid !== obj.metadata.uid) {
        throw errors.conflict({ group: '', resource: ref.kind }, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      }
      if (ref.kind === 'Pod' && (obj.spec?.serviceAccountName ?? 'default') !== name) {
        throw errors.badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
      }
      bound = { kind: ref.kind, name: ref.name, uid: obj.metadata.uid! };
      spec.boundObjectRef = { kind: ref.kind, apiVersion: 'v1', name: ref.name, uid: obj.metadata.uid };
      if (ref.kind === 'Pod' && obj.spec?.nodeName) {
        const node = deps.state.get('', 'nodes', undefined, obj.spec.nodeName);
        bound.nodeName = obj.spec.nodeName;
        bound.nodeUID = node?.metadata.uid;
      }
      // NodeRestriction: a kubelet may only ask for tokens of pods that run on it.
      const node = req.user ? nodeNameOf(req.user) : undefined;
      if (node !== undefined && (ref.kind !== 'Pod' || obj.spec?.nodeName !== node)) {
        throw errors.forbidden({ group: '', resource: 'serviceaccounts/token' }, name, `node "${node}" can only request tokens bound to pods scheduled on it`);
      }
    } else if (req.user && nodeNameOf(req.user) !== undefined) {
      throw errors.forbidden({ group: '', resource: 'serviceaccounts/token' }, name, `node "${nodeNameOf(req.user)}" can only request tokens bound to pods scheduled on it`);
    }

    let seconds = exp;
    if (deps.issuer.maxExpirationSeconds > 0 && seconds > deps.issuer.maxExpirationSeconds) seconds = deps.issuer.maxExpirationSeconds;
    spec.expirationSeconds = seconds;
    const out = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: nowRFC3339() },
      spec,
      status: { token: '', expirationTimestamp: '' },
    };
    if (req.dryRun) {
      out.status.expirationTimestamp = nowRFC3339(new Date(Date.now() + seconds * 1000));
      return { code: 201, body: out };
    }
    // A pod-bound token of exactly the kubelet's duration is issued for a year, so a kubelet that
    // misses a refresh does not break the pod's clients; status still reports the requested
    // expiry and the token carries `warnafter` (upstream's --service-account-extend-token-expiration).
    const extend = deps.extendKubeletTokens !== false && bound?.kind === 'Pod' && seconds === kubeletTokenSeconds;
    const t = await deps.issuer.issue(sa, spec.audiences, extend ? Math.max(extendedTokenSeconds, seconds) : seconds, bound, extend ? seconds : undefined);
    const reported = extend ? new Date(Date.now() + seconds * 1000) : t.expiresAt;
    out.status = { token: t.token, expirationTimestamp: nowRFC3339(reported) };
    return { code: 201, body: out };
  };
}
