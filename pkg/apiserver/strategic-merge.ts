/**
 * Strategic merge patch. Not implemented yet: answered with 415.
 */
import * as errors from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';

export function strategicMergePatch(_current: KubeObject, _patch: Record<string, unknown>, _def: ResourceDef | undefined): KubeObject {
  throw errors.unsupportedMediaType('application/strategic-merge-patch+json');
}
