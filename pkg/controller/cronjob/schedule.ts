/**
 * CronJob schedules (cronjob/utils.go) on cron-parser: the schedule's time zone (spec.timeZone,
 * or a leading `CRON_TZ=`/`TZ=`), the most recent missed start time, and the next one.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';

/** The most missed start times before a CronJob stops catching up (upstream's 100). */
export const maxMissedStartTimes = 100;

export interface ParsedSchedule {
  expression: string;
  tz: string;
}

/** Whether a time zone name is one the runtime knows (IANA). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Splits `CRON_TZ=<zone> <expr>` (or `TZ=`); spec.timeZone wins over the prefix; UTC otherwise. */
export function parseSchedule(schedule: string, timeZone?: string | null): ParsedSchedule {
  let expression = schedule.trim();
  let tz = 'UTC';
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expression);
  if (m) {
    tz = m[1]!;
    expression = m[2]!;
  }
  if (timeZone) tz = timeZone;
  if (!isValidTimeZone(tz)) throw new Error(`unknown time zone ${tz}`);
  // Throws on an unparseable expression.
  CronExpressionParser.parse(expression, { currentDate: new Date(0), tz });
  return { expression, tz };
}

function iterator(s: ParsedSchedule, from: number): CronExpression {
  return CronExpressionParser.parse(s.expression, { currentDate: new Date(from), tz: s.tz });
}

/** The first start time strictly after `t`. */
export function nextScheduleTime(s: ParsedSchedule, t: number): number {
  return iterator(s, t).next().getTime();
}

/**
 * mostRecentScheduleTime: the latest start time in (earliest, now], and how many start times
 * fell in that window (capped a little over maxMissedStartTimes).
 */
export function mostRecentScheduleTime(s: ParsedSchedule, earliest: number, now: number): { time: number | undefined; missed: number } {
  const it = iterator(s, earliest);
  let time: number | undefined;
  let missed = 0;
  for (;;) {
    const t = it.next().getTime();
    if (t > now) break;
    time = t;
    missed++;
    if (missed > maxMissedStartTimes) {
      // Past the cap, only the most recent time matters: jump to it.
      const last = CronExpressionParser.parse(s.expression, { currentDate: new Date(now + 1), tz: s.tz }).prev().getTime();
      if (last > earliest) time = last;
      break;
    }
  }
  return { time, missed };
}
