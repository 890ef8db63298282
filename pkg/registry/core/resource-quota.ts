/** ResourceQuota (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const resourceQuotaStrategy: Strategy = {
  hasStatus: true,
};

export const resourceQuotaResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  namespaced: true,
  shortNames: ['quota'],
  subresources: ['status'],
  strategy: resourceQuotaStrategy,
};
