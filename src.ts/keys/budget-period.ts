/** The periods a key's budget can be set for. */
export const BUDGET_PERIODS = ['minute', 'hour', 'day', 'week', 'month', 'total'] as const;

/** A budget period: calendar periods in UTC, or `total` (never resets). */
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/**
 * The longest each period can be, in ms (`Infinity` for `total`). A budget counter is stored in a
 * window this long that contains the period's start, so it lives at least as long as the period.
 */
export const LONGEST_PERIOD_MS: Readonly<Record<BudgetPeriod, number>> = {
  minute: MINUTE,
  hour: HOUR,
  day: DAY,
  week: WEEK,
  month: 31 * DAY,
  total: Number.POSITIVE_INFINITY,
};

/** Where the period containing a moment starts and ends (epoch ms). */
export interface PeriodBounds {
  /** First millisecond of the period (0 for `total`). */
  readonly start: number;
  /** First millisecond after the period: when its budget resets. `null` for `total` (never). */
  readonly end: number | null;
}

/**
 * The period containing `now`, in UTC: `minute`, `hour` and `day` start on the minute, hour and
 * midnight; `week` on Monday 00:00; `month` on the 1st at 00:00; `total` has no bounds.
 */
export function periodBounds(period: BudgetPeriod, now: number): PeriodBounds {
  switch (period) {
    case 'minute':
    case 'hour':
    case 'day': {
      const length = LONGEST_PERIOD_MS[period];
      const start = Math.floor(now / length) * length;
      return { start, end: start + length };
    }
    case 'week': {
      const dayStart = Math.floor(now / DAY) * DAY;
      const daysSinceMonday = (new Date(dayStart).getUTCDay() + 6) % 7;
      const start = dayStart - daysSinceMonday * DAY;
      return { start, end: start + WEEK };
    }
    case 'month': {
      const date = new Date(now);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth();
      return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
    }
    case 'total':
      return { start: 0, end: null };
  }
}
