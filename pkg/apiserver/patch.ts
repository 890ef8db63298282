/**
 * JSON merge patch (RFC 7386) and JSON patch (RFC 6902, through fast-json-patch).
 * Strategic merge patch and server-side apply live in their own modules.
 */
import jsonpatch from 'fast-json-patch';
import * as errors from '../api/errors.js';
import { clone } from '../api/meta.js';

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902, answering bad operations as upstream does (422 for an unapplicable patch, 400 for a malformed one). */
export function applyJSONPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw errors.badRequest('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
  const err = jsonpatch.validate(patch as jsonpatch.Operation[], target);
  if (err) {
    if (err.name === 'TEST_OPERATION_FAILED') throw errors.invalid({ group: '', kind: 'Patch' }, '', [{ type: 'FieldValueInvalid', field: '', value: err.operation, detail: 'testing value failed' }]);
    throw errors.invalidJSONPatch(err.message.split('\n')[0] ?? 'invalid patch');
  }
  try {
    return jsonpatch.applyPatch(clone(target), patch as jsonpatch.Operation[], false, false).newDocument;
  } catch (e) {
    throw errors.invalidJSONPatch(e instanceof Error ? e.message.split('\n')[0]! : String(e));
  }
}
