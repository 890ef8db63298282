/**
 * keelson-server: the control plane of `keelson up --all-in-one` in one process: kube-apiserver,
 * kube-controller-manager, kube-scheduler, cluster-dns and the host's route controller, each run
 * from its own binary's flags as the launcher writes them to --config-dir (pkg/launcher/all-in-one.ts).
 */
import { parseFlags, runUntilSignal } from '../../pkg/util/flags.js';
import { runGroup } from '../../pkg/launcher/all-in-one.js';

const { values: f } = parseFlags(process.argv.slice(2), { 'config-dir': { type: 'string' } });
if (!f['config-dir']) {
  process.stderr.write('Usage: keelson-server --config-dir DIR\n');
  process.exit(2);
}
runUntilSignal((signal) => runGroup(String(f['config-dir']), signal, (l) => process.stdout.write(`keelson-server: ${l}\n`)));
