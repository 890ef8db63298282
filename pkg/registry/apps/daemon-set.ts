/** DaemonSet (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const daemonSetStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const daemonSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  subresources: ['status'],
  strategy: daemonSetStrategy,
};
