import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxMissedStartTimes, mostRecentScheduleTime, nextScheduleTime, parseSchedule } from './schedule.js';
import { formatInZone, jobNameFor } from './cronjob-controller.js';

const t = (s: string) => Date.parse(s);

test('the most recent start time and the count of missed ones', () => {
  const s = parseSchedule('*/15 * * * *');
  assert.deepEqual(mostRecentScheduleTime(s, t('2024-01-01T00:00:00Z'), t('2024-01-01T00:40:00Z')), { time: t('2024-01-01T00:30:00Z'), missed: 2 });
  assert.deepEqual(mostRecentScheduleTime(s, t('2024-01-01T00:30:00Z'), t('2024-01-01T00:40:00Z')), { time: undefined, missed: 0 });
  const many = mostRecentScheduleTime(parseSchedule('* * * * *'), t('2024-01-01T00:00:00Z'), t('2024-01-02T00:00:30Z'));
  assert.ok(many.missed > maxMissedStartTimes);
  assert.equal(many.time, t('2024-01-02T00:00:00Z'));
  assert.equal(nextScheduleTime(s, t('2024-01-01T00:40:00Z')), t('2024-01-01T00:45:00Z'));
});

test('time zones: spec.timeZone and CRON_TZ', () => {
  const tokyo = parseSchedule('0 9 * * *', 'Asia/Tokyo');
  assert.equal(nextScheduleTime(tokyo, t('2024-01-01T00:30:00Z')), t('2024-01-02T00:00:00Z'));
  const prefixed = parseSchedule('CRON_TZ=Asia/Tokyo 0 9 * * *');
  assert.equal(prefixed.tz, 'Asia/Tokyo');
  assert.equal(prefixed.expression, '0 9 * * *');
  assert.throws(() => parseSchedule('0 9 * * *', 'Mars/Olympus'));
  assert.throws(() => parseSchedule('not a schedule'));
  assert.equal(formatInZone(t('2024-01-02T00:00:00Z'), 'Asia/Tokyo'), '2024-01-02T09:00:00+09:00');
  assert.equal(formatInZone(t('2024-01-02T00:00:00Z'), 'UTC'), '2024-01-02T00:00:00Z');
});

test('job names carry the scheduled minute', () => {
  assert.equal(jobNameFor({ metadata: { name: 'hello' } } as never, t('2024-01-01T00:01:00Z')), 'hello-28401121');
});
