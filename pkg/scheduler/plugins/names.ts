/** Plugin names, as in KubeSchedulerConfiguration (upstream plugins/names). */
export const Names = {
  PrioritySort: 'PrioritySort',
  SchedulingGates: 'SchedulingGates',
  NodeUnschedulable: 'NodeUnschedulable',
  NodeName: 'NodeName',
  NodePorts: 'NodePorts',
  NodeResourcesFit: 'NodeResourcesFit',
  NodeResourcesBalancedAllocation: 'NodeResourcesBalancedAllocation',
  TaintToleration: 'TaintToleration',
  NodeAffinity: 'NodeAffinity',
  InterPodAffinity: 'InterPodAffinity',
  PodTopologySpread: 'PodTopologySpread',
  ImageLocality: 'ImageLocality',
  VolumeBinding: 'VolumeBinding',
  DefaultPreemption: 'DefaultPreemption',
  DefaultBinder: 'DefaultBinder',
} as const;
