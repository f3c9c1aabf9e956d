/**
 * Time conditions of the dialplan: does an instant fall in one of a condition's weekly ranges, in
 * the condition's own time zone? Uses the runtime's time-zone data (Intl), so daylight-saving
 * changes are right without a date library.
 */
import type { Day, TimeConditionData } from './dialplan.schema.js';

const WEEKDAY: Record<string, Day> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };
const ORDER: readonly Day[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Formatters are costly to build: one per zone, kept for the process's life (a dialplan names few zones). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The weekday and minute of the day of `at` (epoch ms) in `timeZone`. */
export function localTime(at: number, timeZone: string): { day: Day; minute: number } {
  const parts = formatter(timeZone).formatToParts(new Date(at));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return { day: WEEKDAY[get('weekday')] ?? 'mon', minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * True when `at` is inside a range. A range whose `to` is not after its `from` runs past midnight:
 * its days name the day it starts, so Friday 22:00-06:00 also covers early Saturday.
 */
export function timeConditionHolds(cond: TimeConditionData, at: number): boolean {
  const { day, minute } = localTime(at, cond.timezone);
  const yesterday = ORDER[(ORDER.indexOf(day) + 6) % 7] as Day;
  return cond.ranges.some((r) => {
    const from = minutes(r.from);
    const to = minutes(r.to);
    if (from < to) return r.days.includes(day) && minute >= from && minute < to;
    return (r.days.includes(day) && minute >= from) || (r.days.includes(yesterday) && minute < to);
  });
}
