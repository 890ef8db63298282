/**
 * Protobuf request bodies (`k8s\0` + runtime.Unknown). Not implemented yet: answered with 415.
 */
import * as errors from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';

export function decodeProtobuf(_body: Buffer, _def: ResourceDef | undefined): KubeObject {
  throw errors.unsupportedMediaType('application/vnd.kubernetes.protobuf');
}
