/** CustomResourceDefinition (apiextensions.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const customResourceDefinitionStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const customResourceDefinitionResource: ResourceDef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  subresources: ['status'],
  strategy: customResourceDefinitionStrategy,
};
