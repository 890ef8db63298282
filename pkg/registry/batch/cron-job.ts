/** CronJob (batch/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const cronJobStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const cronJobResource: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  subresources: ['status'],
  strategy: cronJobStrategy,
};
