/**
 * The ReplicationController manager (`replicationcontroller`). Upstream runs the ReplicaSet
 * controller on RCs through a conversion adapter; here the ReplicaSet code takes the kind as a
 * parameter: a map selector, the core/v1 API, and its own name and queue.
 */
import type { ControllerContext } from '../framework/controller.js';
import { ReplicaSetController, replicationControllerKind, type ReplicaSetControllerOptions } from '../replicaset/replica-set.js';

export function newReplicationManager(ctx: ControllerContext, opts: ReplicaSetControllerOptions): ReplicaSetController {
  return new ReplicaSetController(ctx, replicationControllerKind, opts);
}
