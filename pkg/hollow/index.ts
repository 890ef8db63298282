/** The hollow-node mode: N fake nodes in one process (`keelson hollow-nodes`). */
export { run, validateHollowConfig } from './run.js';
export { defaultHollowConfig, type HollowConfig } from './config.js';
export { hollowConfigFromFlags, hollowFlagSpec, hollowFlagUsage } from './flags.js';
