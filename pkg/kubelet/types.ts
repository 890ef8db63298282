/** API types the kubelet uses, from the one place API types come from (STYLE.md §8). */
export type { Pod, Node, Container, ConfigMap, Secret, Lease } from '../api/types.js';
import type { Pod } from '../api/types.js';

export type PodSpec = NonNullable<Pod['spec']>;
export type Volume = NonNullable<PodSpec['volumes']>[number];
export type PodStatus = NonNullable<Pod['status']>;
export type ContainerStatusAPI = NonNullable<PodStatus['containerStatuses']>[number];
export type PodCondition = NonNullable<PodStatus['conditions']>[number];
export type Probe = NonNullable<NonNullable<PodSpec['containers'][number]>['livenessProbe']>;
export type LifecycleHandler = NonNullable<NonNullable<NonNullable<PodSpec['containers'][number]>['lifecycle']>['preStop']>;
