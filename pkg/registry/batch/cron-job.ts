/** CronJob (batch/v1): the strategy and resource definition. */
import { CronExpressionParser } from 'cron-parser';
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, notSupported, required } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age, translateTimestampSince } from '../../printers/format.js';
import { boolPtrText, containersColumn, formatSelector, imagesColumn, layoutContainerCells } from '../../printers/workloads.js';
import { nonNegative } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { defaultJobSpecTemplate, validateJobSpecCommon } from './job.js';

/** robfig/cron's descriptors, which ParseStandard accepts in place of the five fields. */
const descriptors = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const dowNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether a time zone name is one the tz database knows (cron-parser resolves it). */
export function isKnownTimeZone(tz: string): boolean {
  try {
    CronExpressionParser.parse('0 0 * * *', { tz, currentDate: new Date(0) }).next();
    return true;
  } catch {
    return false;
  }
}

/**
 * The error robfig/cron's ParseStandard gives for a schedule, or undefined when it parses. The
 * field grammar and messages are robfig's (five fields, descriptors, TZ= prefixes); cron-parser
 * checks the ranges and steps of each field.
 */
export function scheduleError(schedule: string): string | undefined {
  let spec = schedule.trim();
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const loc = spec.slice(spec.indexOf('=') + 1, i < 0 ? undefined : i);
    if (!isKnownTimeZone(loc)) return `provided bad location ${loc}: unknown time zone ${loc}`;
    spec = i < 0 ? '' : spec.slice(i).trim();
  }
  if (spec.startsWith('@')) {
    if (descriptors.has(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      return /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(spec.slice(7).trim()) ? undefined : `failed to parse duration ${spec}: time: invalid duration "${spec.slice(7).trim()}"`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  // robfig reads only numbers, ranges, steps, lists, * and ?, and names of months and weekdays.
  for (const [i, f] of fields.entries()) {
    for (const atom of f.split(/[,/-]/)) {
      if (atom === '*' || atom === '?' || /^\d+$/.test(atom)) continue;
      const names = i === 3 ? monthNames : i === 4 ? dowNames : [];
      if (!names.includes(atom.toLowerCase())) return `failed to parse int from ${atom}: strconv.Atoi: parsing ${JSON.stringify(atom)}: invalid syntax`;
    }
  }
  try {
    CronExpressionParser.parse(fields.join(' '), { currentDate: new Date(0) });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // A day that no month has (31 2 *) is valid syntax for robfig; it just never fires.
    if (/day of month/i.test(msg)) return undefined;
    return msg;
  }
  return undefined;
}

const timeZoneCharsRe = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone. */
function validateTimeZone(tz: unknown, path: string): FieldError[] {
  if (tz === undefined || tz === null) return [];
  if (typeof tz !== 'string' || tz === '') return [invalidField(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !timeZoneCharsRe.test(part)) return [invalidField(path, tz, `unknown time zone ${tz}`)];
  }
  const errs: FieldError[] = [];
  if (tz.toLowerCase() === 'local') errs.push(invalidField(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  else if (!isKnownTimeZone(tz)) errs.push(invalidField(path, tz, `unknown time zone ${tz}`));
  return errs;
}

/**
 * validateCronJobSpec. Upstream checks the time zone and the 52-character name limit on create
 * only, to keep older objects updatable; keelson has no such older objects, so it checks both on
 * every write.
 */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.schedule) errs.push(required('spec.schedule', ''));
  else {
    const e = scheduleError(String(spec.schedule));
    if (e) errs.push(invalidField('spec.schedule', spec.schedule, e));
    if (String(spec.schedule).includes('TZ') && spec.timeZone !== undefined && spec.timeZone !== null) {
      errs.push(invalidField('spec.schedule', spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    }
  }
  if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null) errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  const cp = spec.concurrencyPolicy ?? '';
  if (cp === '') errs.push(required('spec.concurrencyPolicy', ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const jobSpec = spec.jobTemplate?.spec ?? {};
  errs.push(...validateJobSpecCommon(jobSpec, 'spec.jobTemplate.spec'));
  // The job template's selector is always generated.
  if (jobSpec.selector) errs.push(invalidField('spec.jobTemplate.spec.selector', jobSpec.selector, '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  for (const f of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
    if (spec[f] !== undefined && spec[f] !== null) errs.push(...nonNegative(spec[f], `spec.${f}`));
  }
  return errs;
}

export const cronJobStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  defaults(obj) {
    obj.spec ??= {};
    const spec = obj.spec;
    spec.concurrencyPolicy ||= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    if (spec.jobTemplate?.spec) defaultJobSpecTemplate(spec.jobTemplate.spec);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  validateCreate(obj) {
    // The controller names Jobs <cronjob>-<11 characters>, and Job names stop at 63.
    if ((obj.metadata.name ?? '').length > 52) return [invalidField('metadata.name', obj.metadata.name, 'must be no more than 52 characters')];
    return [];
  },
  table: {
    columns: [
      nameColumn,
      col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
      col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
      col('Active', 'integer', 'A list of pointers to currently running jobs.'),
      col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you.', 1),
    ],
    row: (obj, now) => {
      const jobSpec = obj.spec?.jobTemplate?.spec;
      return [
        obj.metadata.name,
        obj.spec?.schedule ?? '',
        obj.spec?.timeZone ?? '<none>',
        boolPtrText(obj.spec?.suspend),
        (obj.status?.active ?? []).length,
        obj.status?.lastScheduleTime ? translateTimestampSince(obj.status.lastScheduleTime, now) : '<none>',
        age(obj, now),
        ...layoutContainerCells(jobSpec?.template?.spec?.containers),
        formatSelector(jobSpec?.selector),
      ];
    },
  },
});

export const cronJobResource: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  subresources: ['status'],
  strategy: cronJobStrategy,
};
