/** PersistentVolume (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const persistentVolumeStrategy: Strategy = {
  hasStatus: true,
};

export const persistentVolumeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  subresources: ['status'],
  strategy: persistentVolumeStrategy,
};
