/** Secret (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const secretStrategy: Strategy = {
};

export const secretResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  strategy: secretStrategy,
};
