/** kube-apiserver: parses upstream's flags and runs pkg/apiserver. */
import { run, defaultApiserverConfig } from '../../pkg/apiserver/server.js';
import { parseFlags, intFlag, durationFlag, runUntilSignal } from '../../pkg/util/flags.js';
import { securityOptionsFromFlags, securityFlagSpec, applySecurity } from '../../pkg/auth/options.js';

const { values: f } = parseFlags(process.argv.slice(2), {
  'etcd-servers': { type: 'string' },
  'bind-address': { type: 'string' },
  'secure-port': { type: 'string' },
  'tls-cert-file': { type: 'string' },
  'tls-private-key-file': { type: 'string' },
  'kubelet-client-certificate': { type: 'string' },
  'kubelet-client-key': { type: 'string' },
  'kubelet-certificate-authority': { type: 'string' },
  'etcd-compaction-interval': { type: 'string' },
  'max-request-body-bytes': { type: 'string' },
  'advertise-address': { type: 'string' },
  'watch-bookmark-interval': { type: 'string' },
  'service-cluster-ip-range': { type: 'string' },
  'service-node-port-range': { type: 'string' },
  'request-timeout': { type: 'string' },
  v: { type: 'string' },
  'log-level': { type: 'string' },
  ...securityFlagSpec,
});

const config = defaultApiserverConfig();
if (f['etcd-servers']) config.etcdServers = String(f['etcd-servers']).split(',');
if (f['bind-address']) config.bindAddress = String(f['bind-address']);
config.port = intFlag(f['secure-port'], 'secure-port') ?? config.port;
if (f['tls-cert-file']) config.tlsCertFile = String(f['tls-cert-file']);
if (f['tls-private-key-file']) config.tlsPrivateKeyFile = String(f['tls-private-key-file']);
if (f['kubelet-client-certificate']) config.kubeletClientCertFile = String(f['kubelet-client-certificate']);
if (f['kubelet-client-key']) config.kubeletClientKeyFile = String(f['kubelet-client-key']);
if (f['kubelet-certificate-authority']) config.kubeletCAFile = String(f['kubelet-certificate-authority']);
config.etcdCompactionIntervalMs = durationFlag(f['etcd-compaction-interval'], 'etcd-compaction-interval') ?? config.etcdCompactionIntervalMs;
config.maxRequestBodyBytes = intFlag(f['max-request-body-bytes'], 'max-request-body-bytes') ?? config.maxRequestBodyBytes;
config.requestTimeoutMs = durationFlag(f['request-timeout'], 'request-timeout') ?? config.requestTimeoutMs;
config.watchBookmarkIntervalMs = durationFlag(f['watch-bookmark-interval'], 'watch-bookmark-interval') ?? config.watchBookmarkIntervalMs;
if (f['service-cluster-ip-range']) config.serviceClusterIPRange = String(f['service-cluster-ip-range']);
if (f['service-node-port-range']) config.serviceNodePortRange = String(f['service-node-port-range']);
if (f['advertise-address']) config.advertiseAddress = String(f['advertise-address']);
if (f['log-level']) config.logLevel = String(f['log-level']) as typeof config.logLevel;
applySecurity(config, securityOptionsFromFlags(f));

runUntilSignal((signal) => run(config, signal));
