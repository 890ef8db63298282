/** Event (events.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const eventEventsV1Strategy: Strategy = {
};

export const eventEventsV1Resource: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  strategy: eventEventsV1Strategy,
  storageResource: 'events',
};
