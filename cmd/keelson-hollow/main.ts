/** keelson-hollow: parses the hollow-node flags and runs pkg/hollow. */
import { hollowConfigFromFlags, hollowFlagUsage, run } from '../../pkg/hollow/index.js';
import { runUntilSignal } from '../../pkg/util/flags.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`Usage: keelson-hollow [flags]\n\nRuns N hollow nodes in one process against a real apiserver.\n\n${hollowFlagUsage}`);
  process.exit(0);
}
const config = hollowConfigFromFlags(argv);
runUntilSignal((signal) => run(config, signal));
