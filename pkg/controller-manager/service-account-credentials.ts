/**
 * `--use-service-account-credentials` (upstream's SAControllerClientBuilder): each controller
 * talks to the apiserver as its own ServiceAccount in kube-system, so RBAC limits it to the
 * bootstrap `system:controller:<name>` ClusterRole. The manager (with its own credentials)
 * creates the ServiceAccount when missing and gets short-lived tokens from the TokenRequest API,
 * renewed before they expire.
 *
 * Shared informers keep the manager's credentials, as upstream's do; only each controller's
 * reads and writes go out under its ServiceAccount.
 */
import { KubeConfig, type RequestContext } from '../client/client-node.js';
import type { Logger } from 'pino';
import type { ServiceAccount } from '../api/types.js';
import { isAlreadyExists, isNotFound, RestClient, resources } from '../client/rest.js';
import type { Clock } from '../controller/framework/clock.js';

/** The ServiceAccount (in kube-system) each controller runs as, by upstream's controller name. */
export const controllerServiceAccounts: Record<string, string> = {
  'replicaset-controller': 'replicaset-controller',
  'replicationcontroller-controller': 'replication-controller',
  'deployment-controller': 'deployment-controller',
  'statefulset-controller': 'statefulset-controller',
  'daemonset-controller': 'daemon-set-controller',
  'job-controller': 'job-controller',
  'cronjob-controller': 'cronjob-controller',
  'disruption-controller': 'disruption-controller',
  'horizontal-pod-autoscaler-controller': 'horizontal-pod-autoscaler',
  'ttl-after-finished-controller': 'ttl-after-finished-controller',
  'ttl-controller': 'ttl-controller',
  'namespace-controller': 'namespace-controller',
  'serviceaccount-controller': 'service-account-controller',
  'garbage-collector-controller': 'generic-garbage-collector',
  'endpoints-controller': 'endpoint-controller',
  'endpointslice-controller': 'endpointslice-controller',
  'endpointslice-mirroring-controller': 'endpointslicemirroring-controller',
  'node-ipam-controller': 'node-controller',
  'node-lifecycle-controller': 'node-controller',
  'taint-eviction-controller': 'node-controller',
  'pod-garbage-collector-controller': 'pod-garbage-collector',
  'resourcequota-controller': 'resourcequota-controller',
  'root-ca-certificate-publisher-controller': 'root-ca-cert-publisher',
  'clusterrole-aggregation-controller': 'clusterrole-aggregation-controller',
  'service-lb-controller': 'service-controller',
};

export const serviceAccountNamespace = 'kube-system';
/** Token lifetime asked for; renewed once 80% of it has passed. */
const tokenExpirationSeconds = 3600;
const renewAfterFraction = 0.8;

/**
 * Tokens for one ServiceAccount: the current one until it nears expiry, then a new one. One
 * request at a time, however many callers wait.
 */
export class ServiceAccountTokenSource {
  private token: string | undefined;
  private renewAt = 0;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly manager: RestClient,
    readonly serviceAccount: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  get(): Promise<string> {
    if (this.token && this.clock.now() < this.renewAt) return Promise.resolve(this.token);
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetch(): Promise<string> {
    await this.ensureServiceAccount();
    const issued = this.clock.now();
    const tr = await this.manager.request<{ status?: { token?: string; expirationTimestamp?: string } }>(
      'POST',
      `/api/v1/namespaces/${serviceAccountNamespace}/serviceaccounts/${encodeURIComponent(this.serviceAccount)}/token`,
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: tokenExpirationSeconds } } },
    );
    const token = tr.status?.token;
    if (!token) throw new Error(`TokenRequest for ${serviceAccountNamespace}/${this.serviceAccount} returned no token`);
    const expires = tr.status?.expirationTimestamp ? Date.parse(tr.status.expirationTimestamp) : issued + tokenExpirationSeconds * 1000;
    this.token = token;
    this.renewAt = issued + (expires - issued) * renewAfterFraction;
    this.logger.debug({ serviceAccount: `${serviceAccountNamespace}/${this.serviceAccount}`, expires: new Date(expires).toISOString() }, 'got a service account token');
    return token;
  }

  private async ensureServiceAccount(): Promise<void> {
    try {
      await this.manager.get<ServiceAccount>(resources.serviceAccounts, serviceAccountNamespace, this.serviceAccount);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      await this.manager.create<ServiceAccount>(resources.serviceAccounts, serviceAccountNamespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: this.serviceAccount, namespace: serviceAccountNamespace } });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}

/** A KubeConfig for the manager's cluster that authenticates with the source's bearer tokens. */
class TokenKubeConfig extends KubeConfig {
  constructor(private readonly source: ServiceAccountTokenSource) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('Authorization', `Bearer ${await this.source.get()}`);
  }
}

/** The kubeconfig and client a controller uses under its ServiceAccount. */
export function serviceAccountClient(manager: RestClient, serviceAccount: string, clock: Clock, logger: Logger): { kubeConfig: KubeConfig; client: RestClient } {
  const base = manager.kubeConfig.getCurrentCluster();
  if (!base) throw new Error('the kubeconfig has no current cluster');
  const user = `system:serviceaccount:${serviceAccountNamespace}:${serviceAccount}`;
  const kubeConfig = new TokenKubeConfig(new ServiceAccountTokenSource(manager, serviceAccount, clock, logger));
  // Only the cluster (server and CA) carries over: none of the manager's own credentials.
  kubeConfig.loadFromOptions({
    clusters: [base],
    users: [{ name: user }],
    contexts: [{ name: user, cluster: base.name, user }],
    currentContext: user,
  });
  return { kubeConfig, client: new RestClient(kubeConfig, `kube-controller-manager/${serviceAccount}`) };
}
