/**
 * A guard for strategies against objects whose fields have the wrong JSON types: upstream rejects
 * those while decoding into Go structs, before any strategy runs; here the wrapped hooks turn the
 * TypeError such an object causes into a 422 field error instead of a crash.
 */
import type { StoredObject } from '../api/types.js';
import type { Strategy } from './types.js';
import { type FieldError, invalidField } from '../api/field-errors.js';
import { translateTimestampSince } from '../printers/format.js';

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The shape errors a decoder into typed structs would catch first: spec and status must be
 * objects. Deeper type mismatches surface as the TypeError a hook throws, caught by guarded().
 */
function shapeErrors(obj: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['spec', 'status']) {
    if (obj[f] !== undefined && obj[f] !== null && !isPlainObject(obj[f])) errs.push(invalidField(f, obj[f], 'must be an object'));
  }
  return errs;
}

function isTypeError(e: unknown): e is TypeError {
  return e instanceof TypeError;
}

/**
 * Wraps a strategy so that an object whose fields have the wrong JSON types is rejected as
 * invalid (422) instead of crashing a hook: the defaulting hooks leave such an object alone, and
 * validation reports the first mismatch it trips over. Upstream rejects these while decoding
 * into Go structs, before any strategy runs.
 */
export function guarded(s: Strategy): Strategy {
  const quiet =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      try {
        f(...a);
      } catch (e) {
        if (!isTypeError(e)) throw e;
      }
    };
  const checked =
    <A extends [StoredObject, ...unknown[]]>(f: (...a: A) => FieldError[]) =>
    (...a: A): FieldError[] => {
      const shape = shapeErrors(a[0]);
      if (shape.length) return shape;
      try {
        return f(...a);
      } catch (e) {
        if (!isTypeError(e)) throw e;
        return [{ type: 'FieldValueInvalid', field: '', value: undefined, detail: `the object is malformed: ${e.message}` }];
      }
    };
  const out: Strategy = { ...s };
  if (s.defaults) out.defaults = quiet(s.defaults);
  if (s.prepareForCreate) out.prepareForCreate = quiet(s.prepareForCreate);
  if (s.prepareForUpdate) out.prepareForUpdate = quiet(s.prepareForUpdate);
  if (s.prepareForDelete) out.prepareForDelete = quiet(s.prepareForDelete);
  if (s.validate) out.validate = checked(s.validate);
  if (s.validateUpdate) out.validateUpdate = checked(s.validateUpdate);
  if (s.validateStatusUpdate) out.validateStatusUpdate = checked(s.validateStatusUpdate);
  const fields = s.selectableFields;
  if (fields) {
    out.selectableFields = (obj) => {
      try {
        return fields(obj);
      } catch (e) {
        if (!isTypeError(e)) throw e;
        return {};
      }
    };
  }
  const table = s.table;
  if (table) {
    out.table = {
      columns: table.columns,
      row: (obj, now) => {
        try {
          return table.row(obj, now);
        } catch (e) {
          if (!isTypeError(e)) throw e;
          return table.columns.map((c, i) => (i === 0 ? obj.metadata?.name : c.name === 'Age' ? translateTimestampSince(obj.metadata?.creationTimestamp, now) : '<invalid>'));
        }
      },
    };
  }
  return out;
}
