/** The in-tree plugins by name (upstream plugins/registry.go). */
import type { PluginFactory } from '../framework/interface.js';
import { DefaultBinder } from './default-binder.js';
import { DefaultPreemption, type DefaultPreemptionArgs } from './default-preemption.js';
import { ImageLocality } from './image-locality.js';
import { InterPodAffinity, type InterPodAffinityArgs } from './inter-pod-affinity.js';
import { Names } from './names.js';
import { NodeAffinity, type NodeAffinityArgs } from './node-affinity.js';
import { NodeName } from './node-name.js';
import { NodePorts } from './node-ports.js';
import { NodeResourcesBalancedAllocation, type NodeResourcesBalancedAllocationArgs } from './node-resources-balanced-allocation.js';
import { NodeResourcesFit, type NodeResourcesFitArgs } from './node-resources-fit.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { PodTopologySpread, type PodTopologySpreadArgs } from './pod-topology-spread.js';
import { PrioritySort } from './priority-sort.js';
import { SchedulingGates } from './scheduling-gates.js';
import { TaintToleration } from './taint-toleration.js';
import { VolumeBinding, type VolumeBindingArgs } from './volume-binding.js';

export function inTreeRegistry(): Map<string, PluginFactory> {
  return new Map<string, PluginFactory>([
    [Names.PrioritySort, () => new PrioritySort()],
    [Names.SchedulingGates, () => new SchedulingGates()],
    [Names.NodeUnschedulable, () => new NodeUnschedulable()],
    [Names.NodeName, () => new NodeName()],
    [Names.NodePorts, () => new NodePorts()],
    [Names.NodeResourcesFit, (args) => new NodeResourcesFit(args as NodeResourcesFitArgs)],
    [Names.NodeResourcesBalancedAllocation, (args) => new NodeResourcesBalancedAllocation(args as NodeResourcesBalancedAllocationArgs)],
    [Names.TaintToleration, () => new TaintToleration()],
    [Names.NodeAffinity, (args) => new NodeAffinity(args as NodeAffinityArgs)],
    [Names.InterPodAffinity, (args, h) => new InterPodAffinity(h, args as InterPodAffinityArgs)],
    [Names.PodTopologySpread, (args, h) => new PodTopologySpread(h, args as PodTopologySpreadArgs)],
    [Names.ImageLocality, (_args, h) => new ImageLocality(h)],
    [Names.VolumeBinding, (args, h) => new VolumeBinding(h, args as VolumeBindingArgs)],
    [Names.DefaultPreemption, (args, h) => new DefaultPreemption(h, args as DefaultPreemptionArgs)],
    [Names.DefaultBinder, (_args, h) => new DefaultBinder(h)],
  ]);
}
