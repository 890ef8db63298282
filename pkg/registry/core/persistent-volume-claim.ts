/** PersistentVolumeClaim (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const persistentVolumeClaimStrategy: Strategy = {
  hasStatus: true,
};

export const persistentVolumeClaimResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  subresources: ['status'],
  strategy: persistentVolumeClaimStrategy,
};
