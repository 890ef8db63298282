/** Node (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const nodeStrategy: Strategy = {
  hasStatus: true,
};

export const nodeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  subresources: ['status'],
  strategy: nodeStrategy,
};
