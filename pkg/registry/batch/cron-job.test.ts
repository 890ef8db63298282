import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { cronJobStrategy as s, scheduleError, isKnownTimeZone } from './cron-job.js';

function cj(spec: Record<string, unknown> = {}, name = 'hello'): StoredObject {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'h', image: 'busybox' }] } } } },
      ...spec,
    },
  };
}

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return [...s.validate!(obj), ...s.validateCreate!(obj)].map(fieldErrorString);
}

test('defaults: Allow, not suspended, history limits 3 and 1', () => {
  const c = cj();
  assert.deepEqual(create(c), []);
  assert.equal(c.spec.concurrencyPolicy, 'Allow');
  assert.equal(c.spec.suspend, false);
  assert.equal(c.spec.successfulJobsHistoryLimit, 3);
  assert.equal(c.spec.failedJobsHistoryLimit, 1);
  // The job template is not a Job: it gets no Job defaults.
  assert.equal(c.spec.jobTemplate.spec.backoffLimit, undefined);
});

test('schedules as robfig/cron parses them', () => {
  for (const ok of ['*/5 * * * *', '0 0 * * MON-FRI', '0 12 1 JAN,jul *', '@hourly', '@every 1h30m', 'TZ=UTC 0 0 * * *', '0 0 31 2 *']) assert.equal(scheduleError(ok), undefined, ok);
  assert.equal(scheduleError('61 * * *'), 'expected exactly 5 fields, found 4: [61 * * *]');
  assert.equal(scheduleError('* * * * * *'), 'expected exactly 5 fields, found 6: [* * * * * *]');
  assert.equal(scheduleError('@often'), 'unrecognized descriptor: @often');
  assert.equal(scheduleError('0 0 L * *'), 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax');
  assert.ok(scheduleError('70 * * * *'));
  assert.equal(scheduleError('TZ=Nowhere/Town * * * * *'), 'provided bad location Nowhere/Town: unknown time zone Nowhere/Town');
});

test('validation messages: schedule, time zone, policy, job template', () => {
  assert.deepEqual(create(cj({ schedule: '' })), ['spec.schedule: Required value']);
  assert.deepEqual(create(cj({ schedule: 'TZ=UTC * * * * *', timeZone: 'Mars/Olympus' })), [
    'spec.schedule: Invalid value: "TZ=UTC * * * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule',
    'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
  ]);
  assert.deepEqual(create(cj({ timeZone: 'Local' })), ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones']);
  assert.deepEqual(create(cj({ timeZone: '' })), ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string']);
  assert.deepEqual(create(cj({ concurrencyPolicy: 'Sometimes' })), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']);
  const sel = cj();
  sel.spec.jobTemplate.spec.selector = { matchLabels: { a: 'b' } };
  sel.spec.jobTemplate.spec.template.spec.restartPolicy = 'Always';
  assert.deepEqual(create(sel), [
    'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated',
  ]);
  assert.deepEqual(create(cj({}, 'x'.repeat(53))), [`metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`]);
});

test('time zones come from the tz database', () => {
  assert.equal(isKnownTimeZone('Europe/Paris'), true);
  assert.equal(isKnownTimeZone('UTC'), true);
  assert.equal(isKnownTimeZone('Mars/Olympus'), false);
  assert.deepEqual(create(cj({ timeZone: 'America/New_York' })), []);
});

test('printer: SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE and wide columns', () => {
  const now = new Date('2024-01-01T01:00:00Z');
  const c = cj({ timeZone: 'Europe/Paris' });
  create(c);
  assert.deepEqual(s.table!.columns.map((x) => x.name), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(s.table!.row(c, now), ['hello', '*/5 * * * *', 'Europe/Paris', 'False', 0, '<none>', '60m', 'h', 'busybox', '<none>']);
  c.status = { active: [{ name: 'hello-1' }], lastScheduleTime: '2024-01-01T00:55:00Z' };
  delete c.spec.timeZone;
  assert.deepEqual(s.table!.row(c, now).slice(2, 6), ['<none>', 'False', 1, '5m']);
});
