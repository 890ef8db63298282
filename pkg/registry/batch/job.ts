/** Job (batch/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, required, forbidden } from '../../api/field-errors.js';
import { clone } from '../../api/meta.js';
import { isDNS1123Label, isQualifiedName } from '../../api/validation.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.js';
import { col, nameColumn, ageColumn, age, humanDuration } from '../../printers/format.js';
import { containersColumn, count, formatSelector, imagesColumn, layoutContainerCells, selectorIsMalformed } from '../../printers/workloads.js';
import { immutable, nonNegative, validateLabelSelector } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { selectorMatchesTemplate } from '../apps/replica-set.js';

/** The labels a Job's pods carry, old and new spellings. */
export const jobNameLabel = 'batch.kubernetes.io/job-name';
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const legacyJobNameLabel = 'job-name';
export const legacyControllerUidLabel = 'controller-uid';

const maxParallelismForIndexedJob = 100000;

/**
 * Fills the job template of a Job or CronJob: the pod template's defaults and the pod failure
 * policy's condition status.
 */
export function defaultJobSpecTemplate(spec: any): void {
  defaultPodTemplateSpec(spec.template);
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const p of rule.onPodConditions ?? []) p.status ||= 'True';
  }
}

/** SetDefaults_Job. */
function defaultJob(obj: StoredObject): void {
  obj.spec ??= {};
  const spec = obj.spec;
  defaultJobSpecTemplate(spec);
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? 2147483647 : 6;
  // A Job without labels of its own takes its template's (the very same map, as upstream).
  const tmplLabels = spec.template?.metadata?.labels;
  if (tmplLabels && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = tmplLabels;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
}

/**
 * generateSelector: the pods get the job-name and controller-uid labels, and the selector
 * selects the controller-uid. Labels the user set are left for validation to judge.
 */
function generateSelector(obj: StoredObject): void {
  const spec = obj.spec;
  spec.template ??= {};
  spec.template.metadata ??= {};
  const labels: Record<string, string> = (spec.template.metadata.labels ??= {});
  for (const k of [legacyJobNameLabel, jobNameLabel]) if (!(k in labels)) labels[k] = obj.metadata.name ?? '';
  for (const k of [legacyControllerUidLabel, controllerUidLabel]) if (!(k in labels)) labels[k] = obj.metadata.uid ?? '';
  spec.selector ??= {};
  spec.selector.matchLabels ??= {};
  if (!(controllerUidLabel in spec.selector.matchLabels)) spec.selector.matchLabels[controllerUidLabel] = obj.metadata.uid ?? '';
}

function hasLabel(obj: StoredObject, key: string, expected: string): FieldError[] {
  const labels = obj.spec?.template?.metadata?.labels ?? {};
  const path = `spec.template.metadata.labels[${key}]`;
  if (!(key in labels)) return [required(path, expected)];
  return labels[key] === expected ? [] : [invalidField(path, labels, expected)];
}

/**
 * validateGeneratedSelector: the generated labels are on the template and the selector selects
 * them. (Upstream spares Jobs from before the prefixed labels; keelson has none such.)
 */
function validateGeneratedSelector(obj: StoredObject): FieldError[] {
  const spec = obj.spec ?? {};
  if (spec.manualSelector === true || !spec.selector) return [];
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  const errs: FieldError[] = [];
  if (!uid) errs.push(required('metadata.uid', ''));
  errs.push(...hasLabel(obj, legacyControllerUidLabel, uid), ...hasLabel(obj, legacyJobNameLabel, name));
  errs.push(...hasLabel(obj, controllerUidLabel, uid), ...hasLabel(obj, jobNameLabel, name));
  const expected = { [legacyControllerUidLabel]: uid, [legacyJobNameLabel]: name, [controllerUidLabel]: uid, [jobNameLabel]: name };
  if (!selectorIsMalformed(spec.selector) && !selectorMatchesTemplate(spec.selector, { metadata: { labels: expected } })) {
    errs.push(invalidField('spec.selector', spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

function validatePodFailurePolicy(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules: any[] = spec.podFailurePolicy.rules ?? [];
  if (rules.length > 20) errs.push({ type: 'FieldValueTooMany', field: `${path}.rules`, detail: 'must have at most 20 items' });
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  rules.forEach((rule, i) => {
    const p = `${path}.rules[${i}]`;
    if (!rule.action) errs.push(required(`${p}.action`, `valid values: ${JSON.stringify(actions).replace(/,/g, ' ')}`));
    else if (!actions.includes(rule.action)) errs.push(notSupported(`${p}.action`, rule.action, actions));
    const conds: any[] = rule.onPodConditions ?? [];
    if (rule.onExitCodes) {
      const ec = rule.onExitCodes;
      if (!ec.operator) errs.push(required(`${p}.onExitCodes.operator`, 'valid values: ["In" "NotIn"]'));
      else if (ec.operator !== 'In' && ec.operator !== 'NotIn') errs.push(notSupported(`${p}.onExitCodes.operator`, ec.operator, ['In', 'NotIn']));
      if (!(ec.values ?? []).length) errs.push(invalidField(`${p}.onExitCodes.values`, ec.values ?? null, 'at least one value is required'));
    }
    conds.forEach((c, j) => {
      for (const m of isQualifiedName(String(c.type ?? ''))) errs.push(invalidField(`${p}.onPodConditions[${j}].type`, c.type ?? '', m));
      if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(notSupported(`${p}.onPodConditions[${j}].status`, c.status ?? '', ['False', 'True', 'Unknown']));
    });
    if (rule.onExitCodes && conds.length > 0) errs.push({ type: 'FieldValueInvalid', field: p, detail: 'specifying both OnExitCodes and OnPodConditions is not supported' });
    if (!rule.onExitCodes && conds.length === 0) errs.push({ type: 'FieldValueInvalid', field: p, detail: 'specifying one of OnExitCodes and OnPodConditions is required' });
  });
  return errs;
}

/**
 * validateJobSpec: the checks a Job and a CronJob's job template share. `path` is where the job
 * spec sits.
 */
export function validateJobSpecCommon(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished']) {
    if (spec[f] !== undefined && spec[f] !== null) errs.push(...nonNegative(spec[f], `${path}.${f}`));
  }
  if (spec.completionMode !== undefined && spec.completionMode !== null) {
    if (spec.completionMode !== 'NonIndexed' && spec.completionMode !== 'Indexed') {
      errs.push(notSupported(`${path}.completionMode`, spec.completionMode, ['NonIndexed', 'Indexed']));
    }
    if (spec.completionMode === 'Indexed') {
      if (spec.completions === undefined || spec.completions === null) errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
      if (typeof spec.parallelism === 'number' && spec.parallelism > maxParallelismForIndexedJob) {
        errs.push(invalidField(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${maxParallelismForIndexedJob} when completion mode is Indexed`));
      }
    }
  }
  if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== null && !['TerminatingOrFailed', 'Failed'].includes(spec.podReplacementPolicy)) {
    errs.push(notSupported(`${path}.podReplacementPolicy`, spec.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
  }
  if (spec.podFailurePolicy) errs.push(...validatePodFailurePolicy(spec, `${path}.podFailurePolicy`));
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  // An unset restartPolicy has been defaulted to Always by now, which a Job cannot use.
  const rp = spec.template?.spec?.restartPolicy ?? '';
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (rp === 'Always' || rp === '') errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy && rp !== 'Never') errs.push(invalidField(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** ValidateJob. */
function validateJob(obj: StoredObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs = [...validateGeneratedSelector(obj), ...validateJobSpecCommon(spec, 'spec')];
  if (!spec.selector) errs.push(required('spec.selector', ''));
  else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (!selectorIsMalformed(spec.selector) && !selectorMatchesTemplate(spec.selector, spec.template)) {
    errs.push(invalidField('spec.template.metadata.labels', spec.template?.metadata?.labels ?? null, '`selector` does not match template `labels`'));
  }
  if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number' && spec.completions > 0) {
    const hostname = `${obj.metadata.name}-${spec.completions - 1}`;
    if (isDNS1123Label(hostname).length) errs.push(invalidField('metadata.name', obj.metadata.name, `will not able to create pod with invalid DNS label: ${hostname}`));
  }
  return errs;
}

/** Sets `dst[key]` to `src[key]`, or removes it when `src` has none. */
function copyKey(dst: any, src: any, key: string): void {
  if (src?.[key] === undefined) delete dst[key];
  else dst[key] = src[key];
}

/**
 * The pod template of a Job is immutable, except that a suspended Job that never started may
 * still be moved: its node affinity, node selector, tolerations, scheduling gates, and the pods'
 * labels and annotations.
 */
function validateTemplateUpdate(obj: StoredObject, old: StoredObject): FieldError[] {
  const template: any = obj.spec?.template;
  let oldTemplate: any = old.spec?.template;
  if (old.spec?.suspend === true && !old.status?.startTime && oldTemplate) {
    oldTemplate = clone(oldTemplate);
    oldTemplate.spec ??= {};
    const affinity = { ...(oldTemplate.spec.affinity ?? {}) };
    copyKey(affinity, template?.spec?.affinity, 'nodeAffinity');
    if (template?.spec?.affinity || Object.keys(affinity).length) oldTemplate.spec.affinity = affinity;
    else delete oldTemplate.spec.affinity;
    for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) copyKey(oldTemplate.spec, template?.spec, f);
    oldTemplate.metadata ??= {};
    for (const f of ['labels', 'annotations']) copyKey(oldTemplate.metadata, template?.metadata, f);
  }
  return immutable(template, oldTemplate, 'spec.template');
}

/** Completions may change only for Indexed jobs, and only together with parallelism. */
function validateCompletionsUpdate(obj: StoredObject, old: StoredObject): FieldError[] {
  const spec = obj.spec ?? {};
  if (spec.completionMode !== 'Indexed') return immutable(spec.completions, old.spec?.completions, 'spec.completions');
  if (spec.completions === old.spec?.completions || spec.completions === undefined || spec.completions === null) return [];
  return spec.completions !== spec.parallelism ? [invalidField('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism')] : [];
}

/** The STATUS column: the first of Complete, Failed, Terminating, Suspended, FailureTarget, else Running. */
function jobStatus(obj: StoredObject): string {
  const has = (type: string) => {
    const c = (obj.status?.conditions ?? []).find((x: any) => x.type === type);
    return c?.status === 'True';
  };
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (obj.metadata.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function completionsText(obj: StoredObject): string {
  const succeeded = count(obj.status?.succeeded);
  if (typeof obj.spec?.completions === 'number') return `${succeeded}/${obj.spec.completions}`;
  const parallelism = count(obj.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function durationText(obj: StoredObject, now: Date): string {
  const start = obj.status?.startTime ? Date.parse(obj.status.startTime) : NaN;
  if (Number.isNaN(start)) return '';
  const end = obj.status?.completionTime ? Date.parse(obj.status.completionTime) : now.getTime();
  return humanDuration(end - start);
}

export const jobStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  defaults: (obj) => defaultJob(obj as StoredObject),
  prepareForCreate(obj) {
    obj.status = {};
    const copiedLabels = obj.metadata.labels !== undefined && obj.metadata.labels === obj.spec?.template?.metadata?.labels;
    if (obj.spec.manualSelector !== true) generateSelector(obj);
    // Upstream's Job shares its labels map with the template, so it sees the generated labels too.
    const tmplLabels = obj.spec.template?.metadata?.labels;
    if (tmplLabels && (copiedLabels || Object.keys(obj.metadata.labels ?? {}).length === 0)) obj.metadata.labels = { ...tmplLabels };
  },
  validate(obj) {
    return validateJob(obj);
  },
  validateUpdate(obj, old) {
    const spec = obj.spec ?? {};
    return [
      ...validateCompletionsUpdate(obj, old),
      ...immutable(spec.selector, old.spec?.selector, 'spec.selector'),
      ...validateTemplateUpdate(obj, old),
      ...immutable(spec.completionMode, old.spec?.completionMode, 'spec.completionMode'),
      ...immutable(spec.podFailurePolicy, old.spec?.podFailurePolicy, 'spec.podFailurePolicy'),
      ...immutable(spec.successPolicy, old.spec?.successPolicy, 'spec.successPolicy'),
      ...immutable(spec.managedBy, old.spec?.managedBy, 'spec.managedBy'),
    ];
  },
  validateStatusUpdate(obj) {
    const s = obj.status ?? {};
    const errs: FieldError[] = [];
    for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating']) errs.push(...nonNegative(s[f], `status.${f}`));
    if (s.completionTime && s.startTime && Date.parse(s.completionTime) < Date.parse(s.startTime)) {
      errs.push(forbidden('status.completionTime', 'completionTime cannot be set before startTime'));
    }
    return errs;
  },
  selectableFields(obj) {
    return { 'status.successful': String(count(obj.status?.succeeded)) };
  },
  table: {
    columns: [
      nameColumn,
      col('Status', 'string', 'Status of the job.'),
      col('Completions', 'string', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
      col('Duration', 'string', 'Time required to complete the job.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you.', 1),
    ],
    row: (obj, now) => [
      obj.metadata.name,
      jobStatus(obj),
      completionsText(obj),
      durationText(obj, now),
      age(obj, now),
      ...layoutContainerCells(obj.spec?.template?.spec?.containers),
      formatSelector(obj.spec?.selector),
    ],
  },
});

export const jobResource: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  subresources: ['status'],
  strategy: jobStrategy,
};
