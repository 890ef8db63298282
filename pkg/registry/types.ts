/**
 * What the apiserver knows about a resource. One `ResourceDef` per resource (and per served
 * version); discovery, routing, storage keys, Table printing and selectors all derive from it.
 */
import type { KubeObject, StoredObject } from '../api/types.js';
import type { FieldError } from '../api/field-errors.js';
import type { NameValidator } from '../api/validation.js';

/** A column of `kubectl get`, as metav1.TableColumnDefinition. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0: always shown; 1: shown with `-o wide`. */
  priority: number;
}

/** Upstream's printer for a resource (pkg/printers/internalversion). */
export interface TablePrinter {
  /** All columns, the first one being Name. */
  columns: TableColumn[];
  /** One row's cells, in column order. `now` makes ages testable. */
  row(obj: StoredObject, now: Date): unknown[];
}

/**
 * The per-resource hooks of the generic registry (upstream's RESTCreateStrategy and friends).
 * Every hook is optional; the generic store supplies upstream's defaults.
 */
export interface Strategy {
  /** Upstream's SetDefaults_*: fills in defaulted fields. Runs on every write before validation. */
  defaults?(obj: KubeObject): void;
  /** Clears what a client may not set on create (typically status). */
  prepareForCreate?(obj: StoredObject): void;
  /** Carries over what a client may not change through this endpoint (typically status). */
  prepareForUpdate?(obj: StoredObject, old: StoredObject): void;
  /** Pure validation of an object, run on create and on update. */
  validate?(obj: StoredObject): FieldError[];
  /** Checks that apply to new objects only (name length limits, create-only fields). */
  validateCreate?(obj: StoredObject): FieldError[];
  /** Pure validation of an update (immutable fields and the like), in addition to validate. */
  validateUpdate?(obj: StoredObject, old: StoredObject): FieldError[];
  /** Checks metadata.name (DNS-1123 subdomain unless set). */
  nameValidator?: NameValidator;
  /** `kubectl get` columns (NAME and AGE when unset). */
  table?: TablePrinter;
  /**
   * Fields usable in `?fieldSelector=` besides metadata.name and metadata.namespace. Given the
   * object in this resource's served version; must not throw on a near-empty object (the store
   * probes it to learn which fields exist).
   */
  selectableFields?(obj: StoredObject): Record<string, string>;
  /**
   * Whether metadata.generation is kept: set to 1 on create and bumped when anything other than
   * metadata and status changes.
   */
  generation?: boolean;
  /** Whether the main resource ignores status (it has a /status subresource). */
  hasStatus?: boolean;
  /** Adjusts an object that deletion keeps (finalizers, grace): namespaces turn Terminating. */
  prepareForDelete?(obj: StoredObject): void;
  /**
   * What /status may change besides status: upstream resets all metadata for most kinds, but
   * lets the apps workloads' status writers set annotations (the deployment revision).
   */
  statusKeepsAnnotations?: boolean;
  /** Carries over what /status may not change or derives what it implies (qosClass, phase transition times). */
  prepareForStatusUpdate?(obj: StoredObject, old: StoredObject): void;
  /** Extra field errors on the /status endpoint. */
  validateStatusUpdate?(obj: StoredObject, old: StoredObject): FieldError[];
}

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  /** The resource name in URLs: `deployments`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served, e.g. ['status', 'scale']. */
  subresources?: string[];
  /** The verbs on the main resource; all of them when unset. */
  verbs?: string[];
  strategy: Strategy;
  /**
   * The etcd key segment: `/registry/<storageResource>/…`. Defaults to `plural`. Two served
   * versions of one resource share it (and must convert).
   */
  storageResource?: string;
  /**
   * For resources that are not stored (access reviews, TokenReview, SelfSubjectReview): POST
   * is answered by this handler instead of the generic store.
   */
  virtualCreate?: (req: CustomCreateRequest) => Promise<CustomResponse>;
  /** POST handlers for subresources that are not generic (e.g. serviceaccounts/token). */
  subresourceCreate?: Record<string, (req: CustomCreateRequest) => Promise<CustomResponse>>;
  /** For a version that is not the storage version: converts on the way in and out. */
  conversion?: {
    toStorage(obj: KubeObject): KubeObject;
    fromStorage(obj: StoredObject): StoredObject;
  };
}

/** A request to a custom (non-storage) create handler. */
export interface CustomCreateRequest {
  namespace?: string;
  /** The parent object's name, for subresources. */
  name?: string;
  body: KubeObject;
  user?: import('../auth/types.js').UserInfo;
  dryRun: boolean;
  query: URLSearchParams;
}

export interface CustomResponse {
  code: number;
  body: unknown;
}

export const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function groupVersion(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}
