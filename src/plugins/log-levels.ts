// Kong's (nginx's) error-log levels, most verbose first. `--log-level notice` (Kong's default) keeps notice
// and everything more severe.

export const LOG_LEVELS = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the gateway reports what went wrong (and, at lower levels, what happened): the error log. */
export type ErrorLogger = (level: LogLevel, message: string) => void;

/** True when a message at `level` is written by a log set to `threshold`. */
export function logs(threshold: LogLevel, level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}
