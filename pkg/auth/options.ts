/**
 * The apiserver's security configuration from upstream's flags: authenticators (x509, token
 * file, ServiceAccount JWTs, impersonation), authorizers (Node, RBAC), the admission chain,
 * encryption at rest and the in-flight limits. `buildSecurity` turns options into the pieces
 * `ApiserverConfig` takes; `applySecurity` sets them on a config.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { ApiserverConfig } from '../apiserver/server.js';
import type { AuthConfig } from '../apiserver/filters.js';
import type { AdmissionPlugin } from '../admission/types.js';
import { defaultAdmissionPlugins, validatePluginNames } from '../admission/plugins.js';
import { ensureSystemPriorityClasses } from '../admission/priority.js';
import type { RegistryStore } from '../registry/store.js';
import type { Registry } from '../registry/registry.js';
import { builtinResources } from '../registry/resources.js';
import { setAuthorizationBackend } from '../registry/authorization/backend.js';
import { setAuthenticationBackend } from '../registry/authentication/backend.js';
import { InflightLimiter, defaultInflightLimits } from '../apiserver/limits.js';
import { alwaysAllow, type Authenticator, type Authorizer, type UserInfo } from './types.js';
import { ClusterState } from './cluster-state.js';
import { X509Authenticator } from './x509.js';
import { BearerTokenAuthenticator, TokenFileAuthenticator, type TokenAuthenticator } from './token.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer, loadPublicKeys } from './serviceaccount.js';
import { tokenRequestHandler } from './token-request.js';
import { ImpersonatingAuthenticator } from './impersonation.js';
import { RBACAuthorizer } from './rbac/authorizer.js';
import { ensureBootstrapPolicy, runClusterRoleAggregation } from './rbac/bootstrap.js';
import { rbacEscalationCheck } from './rbac/escalation.js';
import { NodeAuthorizer } from './node-authorizer.js';
import { UnionAuthorizer, PrivilegedGroupsAuthorizer } from './union.js';
import { EncryptionTransformer } from './encryption.js';
import { nodeNameOf } from './node-identity.js';

/** Upstream's flag values, by flag name. */
export interface SecurityOptions {
  /** `--client-ca-file`. */
  clientCAFile?: string;
  /** `--token-auth-file`. */
  tokenAuthFile?: string;
  /** `--service-account-key-file` (repeatable): keys that verify ServiceAccount tokens. */
  serviceAccountKeyFiles: string[];
  /** `--service-account-signing-key-file`: the key that signs them (TokenRequest). */
  serviceAccountSigningKeyFile?: string;
  /** `--service-account-issuer` (repeatable): the first is written into new tokens. */
  serviceAccountIssuers: string[];
  /** `--api-audiences`; defaults to the issuers. */
  apiAudiences: string[];
  /** `--service-account-max-token-expiration`, seconds (0: unlimited). */
  serviceAccountMaxTokenExpirationSeconds: number;
  /** `--service-account-extend-token-expiration`: kubelet (3607 s) tokens are issued for a year. */
  serviceAccountExtendTokenExpiration: boolean;
  /** `--authorization-mode`: AlwaysAllow, AlwaysDeny, Node, RBAC. */
  authorizationModes: string[];
  /** `--anonymous-auth`. */
  anonymousAuth: boolean;
  /** `--enable-admission-plugins` / `--disable-admission-plugins`. */
  enableAdmissionPlugins: string[];
  disableAdmissionPlugins: string[];
  /** `--encryption-provider-config`. */
  encryptionProviderConfig?: string;
  /** `--max-requests-inflight`, `--max-mutating-requests-inflight`. */
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
}

export function defaultSecurityOptions(): SecurityOptions {
  return {
    serviceAccountKeyFiles: [],
    serviceAccountIssuers: [],
    apiAudiences: [],
    serviceAccountMaxTokenExpirationSeconds: 0,
    serviceAccountExtendTokenExpiration: true,
    authorizationModes: ['Node', 'RBAC'],
    anonymousAuth: true,
    enableAdmissionPlugins: [],
    disableAdmissionPlugins: [],
    maxRequestsInflight: defaultInflightLimits.maxRequestsInflight,
    maxMutatingRequestsInflight: defaultInflightLimits.maxMutatingRequestsInflight,
  };
}

/** Paths anonymous requests may reach (everything else answers 401 without credentials). */
export const anonymousPaths = ['/healthz', '/livez', '/readyz', '/version', '/version/'];

/** The pieces of an apiserver configuration that security decides. */
export interface Security {
  auth: AuthConfig;
  admission: (store: RegistryStore, registry: Registry) => AdmissionPlugin[];
  storageTransformer?: EncryptionTransformer;
  clientCAFile?: string;
  /** Run once the store's caches are up: bootstrap RBAC and priority classes, start ClusterRole aggregation. */
  afterStoreStart: (store: RegistryStore, registry: Registry, signal: AbortSignal) => Promise<void>;
  limiter: InflightLimiter;
  /** The cached cluster state the authenticators and authorizers read. */
  state: ClusterState;
}

const alwaysDeny: Authorizer = { authorize: () => ({ decision: 'noOpinion' }) };

/** Builds authentication, authorization, admission and encryption from the options. Reads the files it names. */
export function buildSecurity(opts: SecurityOptions, logger?: Logger): Security {
  const state = new ClusterState();
  validatePluginNames([...opts.enableAdmissionPlugins, ...opts.disableAdmissionPlugins]);

  // Authorization first: impersonation needs it.
  const authorizers: Authorizer[] = [];
  let rbac: RBACAuthorizer | undefined;
  let nodeAuthz: NodeAuthorizer | undefined;
  for (const mode of opts.authorizationModes) {
    switch (mode) {
      case 'AlwaysAllow':
        authorizers.push(alwaysAllow);
        break;
      case 'AlwaysDeny':
        authorizers.push(alwaysDeny);
        break;
      case 'Node':
        authorizers.push((nodeAuthz = new NodeAuthorizer(state)));
        break;
      case 'RBAC':
        authorizers.push((rbac = new RBACAuthorizer(state)));
        break;
      default:
        throw new Error(`unknown authorization mode ${JSON.stringify(mode)}: known modes are AlwaysAllow, AlwaysDeny, Node, RBAC`);
    }
  }
  // system:masters is allowed everything, ahead of every other authorizer, as upstream.
  const authorizer = new UnionAuthorizer([new PrivilegedGroupsAuthorizer(['system:masters']), ...authorizers]);

  const issuers = opts.serviceAccountIssuers.length ? opts.serviceAccountIssuers : ['https://kubernetes.default.svc.cluster.local'];
  const audiences = opts.apiAudiences.length ? opts.apiAudiences : issuers;
  const tokens: TokenAuthenticator[] = [];
  if (opts.tokenAuthFile) tokens.push(TokenFileAuthenticator.fromFile(opts.tokenAuthFile));
  const keyFiles = opts.serviceAccountKeyFiles.length ? opts.serviceAccountKeyFiles : opts.serviceAccountSigningKeyFile ? [opts.serviceAccountSigningKeyFile] : [];
  const publicKeys = keyFiles.flatMap((f) => loadPublicKeys(fs.readFileSync(f, 'utf8')));
  if (publicKeys.length) tokens.push(new ServiceAccountTokenAuthenticator({ issuers, publicKeys, audiences, state }));
  const issuer = opts.serviceAccountSigningKeyFile ? ServiceAccountTokenIssuer.fromFile(opts.serviceAccountSigningKeyFile, issuers, opts.serviceAccountMaxTokenExpirationSeconds) : undefined;

  const inner: Authenticator[] = [];
  if (opts.clientCAFile) inner.push(new X509Authenticator(fs.readFileSync(opts.clientCAFile, 'utf8')));
  if (tokens.length) inner.push(new BearerTokenAuthenticator(tokens, audiences));
  const auth: AuthConfig = {
    authenticators: [new ImpersonatingAuthenticator(inner, authorizer)],
    anonymous: opts.anonymousAuth,
    // With no way to authenticate at all, limiting anonymous requests would lock everyone out.
    anonymousPaths: inner.length ? anonymousPaths : undefined,
    authorizer,
  };

  setAuthorizationBackend({
    authorizer,
    rules: {
      rulesFor: (user: UserInfo, namespace: string) => {
        const rules = rbac ? rbac.rulesFor(user, namespace) : [];
        const node = nodeAuthz && nodeNameOf(user) !== undefined;
        const allowAll = authorizers.includes(alwaysAllow);
        if (allowAll) return { rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
        return { rules, incomplete: !!node, evaluationError: node ? 'node authorizer does not support user rule resolution' : undefined };
      },
    },
  });
  setAuthenticationBackend({ tokens, apiAudiences: audiences });

  const storageTransformer = opts.encryptionProviderConfig ? EncryptionTransformer.fromFile(opts.encryptionProviderConfig, builtinResources) : undefined;

  const admission = (store: RegistryStore, registry: Registry): AdmissionPlugin[] => {
    state.bind(store, registry);
    // TokenRequest is served by this apiserver's issuer: attach it to the serviceaccounts resource.
    const sa = registry.lookup('', 'v1', 'serviceaccounts');
    if (sa && issuer) sa.subresourceCreate = { ...(sa.subresourceCreate ?? {}), token: tokenRequestHandler({ state, issuer, apiAudiences: audiences, extendKubeletTokens: opts.serviceAccountExtendTokenExpiration }) };
    const plugins = defaultAdmissionPlugins(store, registry, { enable: opts.enableAdmissionPlugins, disable: opts.disableAdmissionPlugins, logger });
    // RBAC's escalation check belongs to the RBAC storage upstream; here it runs last in the chain.
    if (rbac) plugins.push(rbacEscalationCheck(authorizer, rbac, state));
    return plugins;
  };

  const afterStoreStart = async (store: RegistryStore, registry: Registry, signal: AbortSignal): Promise<void> => {
    state.bind(store, registry);
    if (rbac) {
      await ensureBootstrapPolicy(store, registry, logger);
      await runClusterRoleAggregation(store, registry, signal, logger);
    }
    await ensureSystemPriorityClasses(store, registry);
  };

  return {
    auth,
    admission,
    storageTransformer,
    clientCAFile: opts.clientCAFile,
    afterStoreStart,
    limiter: new InflightLimiter({ maxRequestsInflight: opts.maxRequestsInflight, maxMutatingRequestsInflight: opts.maxMutatingRequestsInflight }),
    state,
  };
}

/** Sets the security pieces on an apiserver configuration. */
export function applySecurity(config: ApiserverConfig, opts: SecurityOptions, logger?: Logger): Security {
  const s = buildSecurity(opts, logger);
  config.auth = s.auth;
  config.admission = s.admission;
  config.storageTransformer = s.storageTransformer;
  config.clientCAFile = s.clientCAFile;
  config.afterStoreStart = s.afterStoreStart;
  config.inflightLimiter = s.limiter;
  return s;
}

/** Upstream's security flags, for pkg/util/flags' parseFlags. */
export const securityFlagSpec = {
  'client-ca-file': { type: 'string' },
  'token-auth-file': { type: 'string' },
  'service-account-key-file': { type: 'string', multiple: true },
  'service-account-signing-key-file': { type: 'string' },
  'service-account-issuer': { type: 'string', multiple: true },
  'service-account-max-token-expiration': { type: 'string' },
  'service-account-extend-token-expiration': { type: 'string' },
  'api-audiences': { type: 'string' },
  'authorization-mode': { type: 'string' },
  'anonymous-auth': { type: 'string' },
  'enable-admission-plugins': { type: 'string' },
  'disable-admission-plugins': { type: 'string' },
  'encryption-provider-config': { type: 'string' },
  'max-requests-inflight': { type: 'string' },
  'max-mutating-requests-inflight': { type: 'string' },
} as const;

type FlagValues = Record<string, string | boolean | string[] | undefined>;

function list(v: string | boolean | string[] | undefined): string[] {
  if (v === undefined || typeof v === 'boolean') return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

function int(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid value ${JSON.stringify(v)} for --${name}: not a non-negative integer`);
  return n;
}

/** Go durations (`1h`, `90m`, `3600s`) as seconds. */
function seconds(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(String(v));
  if (!m || String(v) === '') throw new Error(`invalid duration ${JSON.stringify(v)} for --${name}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/**
 * Security options from parsed flags. Defaults follow a kubeadm cluster: with any authentication
 * configured, authorization is Node,RBAC and anonymous requests reach only the health and
 * version paths. A server started with no credentials configured at all (a bare development
 * server on plain http) keeps upstream's binary defaults, AlwaysAllow with anonymous requests,
 * since nobody could be authorized otherwise.
 */
export function securityOptionsFromFlags(f: FlagValues): SecurityOptions {
  const o = defaultSecurityOptions();
  if (typeof f['client-ca-file'] === 'string') o.clientCAFile = f['client-ca-file'];
  if (typeof f['token-auth-file'] === 'string') o.tokenAuthFile = f['token-auth-file'];
  o.serviceAccountKeyFiles = list(f['service-account-key-file']);
  if (typeof f['service-account-signing-key-file'] === 'string') o.serviceAccountSigningKeyFile = f['service-account-signing-key-file'];
  o.serviceAccountIssuers = list(f['service-account-issuer']);
  o.apiAudiences = list(f['api-audiences']);
  o.serviceAccountMaxTokenExpirationSeconds = seconds(f['service-account-max-token-expiration'], 'service-account-max-token-expiration') ?? 0;
  const extend = f['service-account-extend-token-expiration'];
  if (extend !== undefined && extend !== 'true' && extend !== 'false') throw new Error(`invalid value ${JSON.stringify(extend)} for --service-account-extend-token-expiration: true or false`);
  o.serviceAccountExtendTokenExpiration = extend !== 'false';
  const anyAuthn = !!(o.clientCAFile || o.tokenAuthFile || o.serviceAccountKeyFiles.length || o.serviceAccountSigningKeyFile);
  const modes = list(f['authorization-mode']);
  o.authorizationModes = modes.length ? modes : anyAuthn ? ['Node', 'RBAC'] : ['AlwaysAllow'];
  const anon = f['anonymous-auth'];
  if (anon !== undefined) {
    if (anon !== 'true' && anon !== 'false') throw new Error(`invalid value ${JSON.stringify(anon)} for --anonymous-auth: true or false`);
    o.anonymousAuth = anon === 'true';
  }
  o.enableAdmissionPlugins = list(f['enable-admission-plugins']);
  o.disableAdmissionPlugins = list(f['disable-admission-plugins']);
  if (typeof f['encryption-provider-config'] === 'string') o.encryptionProviderConfig = f['encryption-provider-config'];
  o.maxRequestsInflight = int(f['max-requests-inflight'], 'max-requests-inflight') ?? o.maxRequestsInflight;
  o.maxMutatingRequestsInflight = int(f['max-mutating-requests-inflight'], 'max-mutating-requests-inflight') ?? o.maxMutatingRequestsInflight;
  return o;
}
