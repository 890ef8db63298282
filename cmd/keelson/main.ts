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
import { runRouteController } from '../../pkg/hostgw/route-controller.js';
import { newLogger } from '../../pkg/log/logger.js';
import { hollowConfigFromFlags, hollowFlagUsage, run as runHollow } from '../../pkg/hollow/index.js';

const usage = `Usage: keelson <command> [flags]

Commands:
  up [--nodes N] [--reset] [--state-dir DIR]   start a cluster on this machine (needs root)
  down [--reset] [--state-dir DIR]            stop it; --reset also deletes its state
  status [--state-dir DIR]                    show which processes run
  hollow-nodes --kubeconfig F --count N       run N hollow (fake) nodes for scale tests
  route-controller --kubeconfig F [--node-name N] --addresses A,B   keep host-gw pod routes
`;

const [command, ...argv] = process.argv.slice(2);
const defaultState = process.env.KEELSON_STATE_DIR ?? path.join(repoRoot(), '.state');

async function main(): Promise<void> {
  switch (command) {
    case 'up': {
      const { values: f } = parseFlags(argv, { nodes: { type: 'string' }, reset: { type: 'boolean' }, 'state-dir': { type: 'string' }, 'api-port': { type: 'string' } });
      const opts = defaultClusterOptions(String(f['state-dir'] ?? defaultState));
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
      await down({ ...defaultClusterOptions(String(f['state-dir'] ?? defaultState)), reset: !!f.reset });
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
