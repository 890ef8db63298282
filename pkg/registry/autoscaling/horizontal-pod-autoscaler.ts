/** HorizontalPodAutoscaler (autoscaling/v2): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const horizontalPodAutoscalerStrategy: Strategy = {
  hasStatus: true,
};

export const horizontalPodAutoscalerResource: ResourceDef = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: ['status'],
  strategy: horizontalPodAutoscalerStrategy,
};
