/** Recognising kubelets by their credentials (upstream's nodeidentifier). */
import type { UserInfo } from './types.js';

export const nodeUserPrefix = 'system:node:';
export const nodesGroup = 'system:nodes';

/** The node a user is the kubelet of: `system:node:<name>` in group system:nodes; undefined otherwise. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.username.startsWith(nodeUserPrefix)) return undefined;
  if (!user.groups.includes(nodesGroup)) return undefined;
  const name = user.username.slice(nodeUserPrefix.length);
  return name || undefined;
}
