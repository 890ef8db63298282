/**
 * keelson: the launcher. `up` brings up a cluster on this machine and prints
 * `export KUBECONFIG=…`; `down` stops it and removes what it made on the host; `status` shows what
 * runs. `hollow-nodes` runs fake nodes for scale tests, `route-controller` keeps host-gw routes
 * (the launcher runs it on the host and in every node).
 */
import path from 'node:path';
import os from 'node:os';
import { parseFlags, intFlag, runUntilSignal } from '../../pkg/util/flags.js';
import { up, down, status, defaultClusterOptions } from '../../pkg/launcher/cluster.js';
import { repoRoot } from '../../pkg/launcher/paths.js';
import { addNode, join, leave, isWorkerState } from '../../pkg/launcher/join.js';
import { runRouteController } from '../../pkg/hostgw/route-controller.js';
import { newLogger } from '../../pkg/log/logger.js';
import { hollowConfigFromFlags, hollowFlagUsage, run as runHollow } from '../../pkg/hollow/index.js';

const usage = `Usage: keelson <command> [flags]

Commands:
  up [--nodes N] [--reset] [--state-dir DIR]   start a cluster on this machine (needs root)
     [--all-in-one]                           control plane in one process, each node's agents in another
     [--apiserver-cert-extra-sans A,B]        more SANs for the apiserver certificate (first up)
  down [--reset] [--state-dir DIR]            stop it; --reset also deletes its state
  status [--state-dir DIR]                    show which processes run
  add-node NAME --address IP --out DIR        (control plane) issue a worker's certificates
                                              and write its join bundle
  join --bundle DIR [--state-dir DIR]         (worker) start containerd, kubelet, kube-proxy
                                              and routes here from a join bundle (needs root)
  hollow-nodes --kubeconfig F --count N       run N hollow (fake) nodes for scale tests
  route-controller --kubeconfig F [--node-name N] --addresses A,B   keep host-gw pod routes
`;

const [command, ...argv] = process.argv.slice(2);
const defaultState = process.env.KEELSON_STATE_DIR ?? path.join(repoRoot(), '.state');

async function main(): Promise<void> {
  switch (command) {
    case 'up': {
      const { values: f } = parseFlags(argv, { nodes: { type: 'string' }, reset: { type: 'boolean' }, 'state-dir': { type: 'string' }, 'api-port': { type: 'string' }, 'apiserver-cert-extra-sans': { type: 'string' }, 'all-in-one': { type: 'boolean' } });
      const opts = defaultClusterOptions(String(f['state-dir'] ?? defaultState));
      opts.allInOne = !!f['all-in-one'];
      opts.apiserverSANs = String(f['apiserver-cert-extra-sans'] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      opts.nodes = intFlag(f.nodes, 'nodes') ?? Number(process.env.NODES ?? 1);
      opts.apiPort = intFlag(f['api-port'], 'api-port') ?? opts.apiPort;
      if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 20) throw new Error('--nodes must be between 1 and 20');
      if (os.userInfo().uid !== 0) throw new Error('keelson up needs root: it creates network namespaces, bridges and routes');
      if (f.reset) await down({ ...opts, reset: true });
      try {
        const kubeconfig = await up(opts);
        process.stdout.write(`export KUBECONFIG=${kubeconfig}\n`);
      } catch (e) {
        process.stderr.write(`keelson up failed: ${e instanceof Error ? e.message : String(e)}\nRun \`keelson down\` to clean up, or look at the logs in ${path.join(opts.stateDir, 'logs')}.\n`);
        process.exit(1);
      }
      return;
    }
    case 'down': {
      const { values: f } = parseFlags(argv, { reset: { type: 'boolean' }, 'state-dir': { type: 'string' } });
      const stateDir = String(f['state-dir'] ?? defaultState);
      // A joined worker's state: stop only what `join` started here.
      if (isWorkerState(stateDir)) await leave({ stateDir, reset: !!f.reset, log: (l) => process.stdout.write(l + '\n') });
      else await down({ ...defaultClusterOptions(stateDir), reset: !!f.reset });
      return;
    }
    case 'add-node': {
      const { values: f, positionals } = parseFlags(argv, { address: { type: 'string' }, out: { type: 'string' }, server: { type: 'string' }, 'state-dir': { type: 'string' } });
      const name = positionals[0];
      if (!name || positionals.length > 1) throw new Error('usage: keelson add-node NAME --address IP --out DIR');
      if (!f.address || !f.out) throw new Error('keelson add-node needs --address and --out');
      const defaults = defaultClusterOptions(String(f['state-dir'] ?? defaultState));
      const s = await addNode({
        stateDir: defaults.stateDir,
        name,
        address: String(f.address),
        out: String(f.out),
        server: f.server as string | undefined,
        clusterCIDR: defaults.clusterCIDR,
        dnsIP: defaults.dnsIP,
        clusterDomain: defaults.clusterDomain,
      });
      process.stdout.write(`wrote the join bundle for ${s.nodeName} to ${String(f.out)}; it holds private keys.\nCopy it to the worker and run there, as root:\n  keelson join --bundle <dir>\n`);
      return;
    }
    case 'join': {
      const { values: f } = parseFlags(argv, { bundle: { type: 'string' }, 'state-dir': { type: 'string' } });
      if (!f.bundle) throw new Error('keelson join needs --bundle DIR (written by keelson add-node on the control plane)');
      if (os.userInfo().uid !== 0) throw new Error('keelson join needs root: it runs containerd and sets up pod networking');
      const stateDir = String(f['state-dir'] ?? defaultState);
      try {
        const s = await join({ bundle: String(f.bundle), stateDir, log: (l) => process.stdout.write(l + '\n') });
        process.stdout.write(`node ${s.nodeName} joined ${s.server} and is Ready\n`);
      } catch (e) {
        process.stderr.write(`keelson join failed: ${e instanceof Error ? e.message : String(e)}\nRun \`keelson down --state-dir ${stateDir}\` to clean up.\n`);
        process.exit(1);
      }
      return;
    }
    case 'status': {
      const { values: f } = parseFlags(argv, { 'state-dir': { type: 'string' } });
      const rows = status(defaultClusterOptions(String(f['state-dir'] ?? defaultState)));
      if (rows.length === 0) process.stdout.write('nothing runs\n');
      for (const r of rows) process.stdout.write(`${r.name.padEnd(32)} ${r.pid ? `running (pid ${r.pid})` : 'stopped'}\n`);
      return;
    }
    case 'hollow-nodes': {
      if (argv.includes('--help')) {
        process.stdout.write(`Usage: keelson hollow-nodes [flags]\n\n${hollowFlagUsage}`);
        return;
      }
      const config = hollowConfigFromFlags(argv);
      runUntilSignal((signal) => runHollow(config, signal));
      return;
    }
    case 'route-controller': {
      const { values: f } = parseFlags(argv, { kubeconfig: { type: 'string' }, 'node-name': { type: 'string' }, addresses: { type: 'string' }, 'log-level': { type: 'string' } });
      const logger = newLogger('route-controller', (f['log-level'] as 'info' | undefined) ?? 'info');
      runUntilSignal((signal) =>
        runRouteController({ kubeconfig: String(f.kubeconfig ?? ''), nodeName: f['node-name'] as string | undefined, addresses: String(f.addresses ?? '').split(',').filter(Boolean), logger }, signal),
      );
      return;
    }
    default:
      process.stdout.write(usage);
      if (command && command !== 'help' && command !== '--help') process.exit(2);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
