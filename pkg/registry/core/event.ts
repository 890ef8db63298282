/** Event (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const eventStrategy: Strategy = {
};

export const eventResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  strategy: eventStrategy,
};
