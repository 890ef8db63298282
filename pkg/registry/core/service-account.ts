/** ServiceAccount (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const serviceAccountStrategy: Strategy = {
};

export const serviceAccountResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  subresources: ['token'],
  strategy: serviceAccountStrategy,
};
