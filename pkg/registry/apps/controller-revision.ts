/** ControllerRevision (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const controllerRevisionStrategy: Strategy = {
};

export const controllerRevisionResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  strategy: controllerRevisionStrategy,
};
