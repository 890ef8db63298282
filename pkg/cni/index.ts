/** The CNI runtime side: the kubelet runs network configuration lists on pod sandboxes itself. */
export { CniNetwork, resultIPs, podCniArgs, type RuntimeConf, type CniOptions } from './network.js';
export { parseNetworkConfig, loadFirstNetwork, configFiles, compareVersions, type NetworkConfigList, type PluginConf } from './config.js';
export { execPlugin, findPlugin, CniError, type PluginInvocation } from './exec.js';
