/**
 * Table rendering (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): what `kubectl get`
 * prints. Columns come from each resource's printer; rows carry the object as
 * PartialObjectMetadata unless includeObject says otherwise.
 */
import type { StoredObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import { defaultPrinter } from '../printers/format.js';
import * as errors from '../api/errors.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(v: string | null): IncludeObject {
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw errors.badRequest(`includeObject: Unsupported value: "${v}": supported values: "Metadata", "None", "Object"`);
}

export function partialObjectMetadata(obj: StoredObject, version: 'v1' | 'v1beta1' = 'v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function toTable(
  def: ResourceDef,
  items: StoredObject[],
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  include: IncludeObject,
  version: 'v1' | 'v1beta1' = 'v1',
  now = new Date(),
): Record<string, unknown> {
  const printer = def.strategy.table ?? defaultPrinter;
  const rows = items.map((o) => {
    const row: Record<string, unknown> = { cells: printer.row(o, now) };
    if (include === 'Metadata') row.object = partialObjectMetadata(o, version);
    else if (include === 'Object') row.object = o;
    return row;
  });
  const metadata: Record<string, unknown> = {};
  if (listMeta.resourceVersion) metadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue) metadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined) metadata.remainingItemCount = listMeta.remainingItemCount;
  return { kind: 'Table', apiVersion: `meta.k8s.io/${version}`, metadata, columnDefinitions: printer.columns, rows };
}
