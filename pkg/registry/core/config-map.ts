/** ConfigMap (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const configMapStrategy: Strategy = {
};

export const configMapResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  strategy: configMapStrategy,
};
