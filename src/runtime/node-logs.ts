// The log files of one thread: its error log, and the access log (a proxy plane) or the admin access log (the
// main thread). Each thread opens its own writers on the same paths (O_APPEND, whole lines per write; see
// plugins/line-writer.ts for why that beats posting lines to one thread), so no line crosses threads.
import { writeSync } from "node:fs";
import { LineWriter } from "../plugins/line-writer.ts";
import { type ErrorLogger, type LogLevel, logs } from "../plugins/log-levels.ts";
import type { AccessLogFormat } from "../proxy/index.ts";
import { StartupError } from "./listen.ts";

/** The log settings of the node (plain data: posted to proxy worker threads). */
export type LogOptions = {
  accessLog: string | null;
  accessLogFormat: AccessLogFormat;
  adminAccessLog: string | null;
  errorLog: string;
  logLevel: LogLevel;
  logBuffer: number;
};

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** nginx's error-log line: `2026/11/30 03:40:44 [error] <pid>#<thread>: <message>`. */
export function errorLogLine(level: LogLevel, message: string, now: Date, thread: number): string {
  const date = `${now.getFullYear()}/${two(now.getMonth() + 1)}/${two(now.getDate())}`;
  const time = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  return `${date} ${time} [${level}] ${process.pid}#${thread}: ${message.replaceAll("\n", "\\n")}`;
}

function open(what: string, destination: string, options: ConstructorParameters<typeof LineWriter>[1]) {
  try {
    return new LineWriter(destination, options);
  } catch (error) {
    throw new StartupError(`cannot open the ${what} ${destination}: ${(error as Error).message}`);
  }
}

export class ThreadLogs {
  readonly errorLog: ErrorLogger;
  readonly access: LineWriter | null;
  readonly adminAccess: LineWriter | null;
  readonly #error: LineWriter;
  readonly options: LogOptions;

  /**
   * @param thread 0 for the main thread, the worker's number + 1 for a proxy worker (nginx's `#tid`)
   * @param open which of the access logs this thread writes
   */
  constructor(options: LogOptions, thread: number, which: { access: boolean; adminAccess: boolean }) {
    this.options = options;
    // The error log cannot report its own trouble to itself: that goes straight to stderr.
    this.#error = open("error log", options.errorLog, {
      maxBuffered: options.logBuffer,
      report: (message) => stderr(errorLogLine("alert", message, new Date(), thread)),
    });
    const threshold = options.logLevel;
    const error = this.#error;
    this.errorLog = (level, message) => {
      if (logs(threshold, level)) error.write(errorLogLine(level, message, new Date(), thread));
    };
    const report = (message: string) => this.errorLog("warn", message);
    this.access =
      which.access && options.accessLog !== null
        ? open("access log", options.accessLog, { maxBuffered: options.logBuffer, report })
        : null;
    this.adminAccess =
      which.adminAccess && options.adminAccessLog !== null
        ? open("admin access log", options.adminAccessLog, { maxBuffered: options.logBuffer, report })
        : null;
  }

  /** Opens every file again (logrotate moved them away: SIGUSR1). */
  reopen(): void {
    this.#error.reopen();
    this.access?.reopen();
    this.adminAccess?.reopen();
    this.errorLog("notice", "log files reopened");
  }

  /** Writes what is queued and closes the files. */
  async close(): Promise<void> {
    await Promise.all([this.access?.close(), this.adminAccess?.close()]);
    await this.#error.close();
  }
}

function stderr(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {}
}
