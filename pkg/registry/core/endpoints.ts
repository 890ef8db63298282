/** Endpoints (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const endpointsStrategy: Strategy = {
};

export const endpointsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  strategy: endpointsStrategy,
};
