/** EndpointSlice (discovery.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const endpointSliceStrategy: Strategy = {
};

export const endpointSliceResource: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  strategy: endpointSliceStrategy,
};
