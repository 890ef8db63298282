/** LimitRange (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const limitRangeStrategy: Strategy = {
};

export const limitRangeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  namespaced: true,
  shortNames: ['limits'],
  strategy: limitRangeStrategy,
};
