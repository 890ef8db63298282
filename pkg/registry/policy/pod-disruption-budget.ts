/** PodDisruptionBudget (policy/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const podDisruptionBudgetStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const podDisruptionBudgetResource: ResourceDef = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  subresources: ['status'],
  strategy: podDisruptionBudgetStrategy,
};
