/** ReplicationController (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject, PodTemplateSpec } from '../../api/types.js';
import { type FieldError, invalidField, required, notSupported, forbidden } from '../../api/field-errors.js';
import { selectorFromSet } from '../../api/labels.js';
import { col, nameColumn, ageColumn, age, formatMap } from '../../printers/format.js';
import { layoutContainerCells } from '../../printers/core.js';
import { type Obj, isObj, str, defaultPodTemplateSpec, validatePodTemplateSpec, validateNonnegativeField } from './pod-spec.js';

const specOf = (o: StoredObject): Obj => (isObj(o.spec) ? o.spec : {});

/** SetDefaults_ReplicationController and the declarative replicas default. */
function defaultRC(obj: StoredObject): void {
  if (!isObj(obj.spec)) obj.spec = {};
  const spec = obj.spec as Obj;
  const labels = isObj(spec.template?.metadata?.labels) ? spec.template.metadata.labels : undefined;
  if (labels) {
    if (!isObj(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata.labels = { ...labels };
  }
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (isObj(spec.template)) defaultPodTemplateSpec(spec.template as PodTemplateSpec);
}

/** ValidateReplicationControllerSpec. */
export function validateReplicationController(rc: StoredObject): FieldError[] {
  const spec = specOf(rc);
  const errs = validateNonnegativeField(spec.minReadySeconds, 'spec.minReadySeconds');
  const selector: Record<string, string> = isObj(spec.selector) ? spec.selector : {};
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector', ''));
  errs.push(...validateNonnegativeField(spec.replicas, 'spec.replicas'));
  const t = spec.template;
  if (!isObj(t)) {
    errs.push(required('spec.template', ''));
    return errs;
  }
  const labels = isObj(t.metadata?.labels) ? t.metadata.labels : {};
  if (Object.keys(selector).length && !selectorFromSet(selector).matches(labels)) {
    errs.push(invalidField('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(t as PodTemplateSpec, 'spec.template'));
  const restartPolicy = str(t.spec?.restartPolicy);
  if (restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (t.spec?.activeDeadlineSeconds !== undefined && t.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

/** ValidateReplicationControllerStatus. */
export function validateRCStatus(rc: StoredObject): FieldError[] {
  const st: Obj = isObj(rc.status) ? rc.status : {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) errs.push(...validateNonnegativeField(st[f], `status.${f}`));
  const n = (f: string) => Number(st[f] ?? 0);
  const msg = 'cannot be greater than status.replicas';
  if (n('fullyLabeledReplicas') > n('replicas')) errs.push(invalidField('status.fullyLabeledReplicas', st.fullyLabeledReplicas, msg));
  if (n('readyReplicas') > n('replicas')) errs.push(invalidField('status.readyReplicas', st.readyReplicas, msg));
  if (n('availableReplicas') > n('replicas')) errs.push(invalidField('status.availableReplicas', st.availableReplicas, msg));
  if (n('availableReplicas') > n('readyReplicas')) errs.push(invalidField('status.availableReplicas', st.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}

const rcColumns: TableColumn[] = [
  nameColumn,
  col('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
  col('Current', 'integer', 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
  col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
  ageColumn,
  col('Containers', 'string', 'Names of each container in the template.', 1),
  col('Images', 'string', 'Images referenced by each container in the template.', 1),
  col('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
];

export const replicationControllerStrategy: Strategy = {
  generation: true,
  hasStatus: true,
  defaults: defaultRC,
  prepareForCreate(obj) {
    obj.status = { replicas: 0 };
  },
  validate: validateReplicationController,
  validateStatusUpdate: validateRCStatus,
  selectableFields: (obj) => ({ 'status.replicas': String(Number(obj.status?.replicas ?? 0)) }),
  table: {
    columns: rcColumns,
    row(obj, now) {
      const spec = specOf(obj);
      const [names, images] = layoutContainerCells(spec.template?.spec?.containers);
      return [obj.metadata.name, Number(spec.replicas ?? 0), Number(obj.status?.replicas ?? 0), Number(obj.status?.readyReplicas ?? 0), age(obj, now), names, images, formatMap(isObj(spec.selector) ? spec.selector : undefined)];
    },
  },
};

export const replicationControllerResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: replicationControllerStrategy,
};
