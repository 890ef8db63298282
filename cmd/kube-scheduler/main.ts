/** kube-scheduler: parses upstream's flags and runs pkg/scheduler. */
import { run } from '../../pkg/scheduler/run.js';
import { defaultSchedulerRunConfig } from '../../pkg/scheduler/options.js';
import { parseFlags, intFlag, durationFlag, runUntilSignal } from '../../pkg/util/flags.js';

// Booleans are declared as strings so `--leader-elect=false` parses; a bare flag means true.
const booleans = ['leader-elect'];
const argv = process.argv.slice(2).map((a) => (booleans.some((b) => a === `--${b}`) ? `${a}=true` : a));

const { values: f } = parseFlags(argv, {
  kubeconfig: { type: 'string' },
  config: { type: 'string' },
  'leader-elect': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string' },
  'leader-elect-resource-name': { type: 'string' },
  'bind-address': { type: 'string' },
  'secure-port': { type: 'string' },
  v: { type: 'string' },
  'log-level': { type: 'string' },
});

function boolFlag(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === true) return true;
  if (v === 'false' || v === false) return false;
  throw new Error(`invalid value ${JSON.stringify(v)} for --${name}: must be true or false`);
}

const config = defaultSchedulerRunConfig();
if (f.kubeconfig) config.kubeconfig = String(f.kubeconfig);
if (f.config) config.configFile = String(f.config);
config.leaderElect = boolFlag(f['leader-elect'], 'leader-elect');
config.leaseDurationMs = durationFlag(f['leader-elect-lease-duration'], 'leader-elect-lease-duration');
config.renewDeadlineMs = durationFlag(f['leader-elect-renew-deadline'], 'leader-elect-renew-deadline');
config.retryPeriodMs = durationFlag(f['leader-elect-retry-period'], 'leader-elect-retry-period');
if (f['leader-elect-resource-namespace']) config.leaderElectResourceNamespace = String(f['leader-elect-resource-namespace']);
if (f['leader-elect-resource-name']) config.leaderElectResourceName = String(f['leader-elect-resource-name']);
if (f['bind-address']) config.bindAddress = String(f['bind-address']);
config.port = intFlag(f['secure-port'], 'secure-port') ?? config.port;
if (f['log-level']) config.logLevel = String(f['log-level']) as typeof config.logLevel;
else if (f.v !== undefined) config.logLevel = Number(f.v) >= 4 ? 'debug' : 'info';

runUntilSignal((signal) => run(config, signal));
