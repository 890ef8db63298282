/** The CRI runtime.v1 client the kubelet uses to drive containerd. */
export { CriClient, criTarget, grpcCode, isNotFound, criErrorMessage, type CriClientOptions } from './client.js';
export { newCriMetrics, type CriMetrics } from './metrics.js';
export { repoRoot, repoPath } from './repo-root.js';
export type * from './types.js';
