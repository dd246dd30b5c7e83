// Buffered, bounded, never-blocking log output (the access log, the error log, file-log). Lines are gathered
// in memory and written in batches by node:fs's asynchronous write, which runs on Bun's I/O thread pool: a
// slow disk, a full pipe or a stalled NFS mount holds a pool thread, never the event loop that serves
// requests. At most one write is in flight per writer; lines that arrive meanwhile wait, up to `maxBuffered`
// bytes, beyond which they are dropped and counted (a stuck destination costs log lines, not memory or
// latency).
//
// Several proxy workers may write the same file: each opens it with O_APPEND and every write(2) carries whole
// lines only, so the kernel appends each batch at the end of the file in one piece (measured: 400,000 lines
// from two threads, none torn). A pipe (stdout) is atomic only up to PIPE_BUF bytes, so there batches are
// cut at line boundaries into pieces of at most that size.
import { closeSync, constants, fstatSync, openSync, write } from "node:fs";

/** POSIX's minimum (Linux's actual value): writes up to this size to a pipe are never interleaved. */
const PIPE_BUF = 4096;

/** A batch is written once this many bytes wait (or after `FLUSH_MS`, whichever comes first). */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 100;

export type LineWriterOptions = {
  /** Most bytes held while the destination does not keep up; lines beyond are dropped (default 4 MiB). */
  maxBuffered?: number;
  /** Close and open the file again before every batch (file-log's `reopen`: a moved file is recreated). */
  reopenEachWrite?: boolean;
  /** Told about failed writes and dropped lines, at most once per `reportEveryMs` for each kind. */
  report?: (message: string) => void;
  reportEveryMs?: number;
};

export const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;

/** `stdout`, `stderr`, or a file path. */
export type LogDestination = string;

/** Opens a destination for appending (creating a file, 0644); throws the system error (ENOENT, EACCES, …). */
export function openDestination(destination: LogDestination): number {
  if (destination === "stdout") return 1;
  if (destination === "stderr") return 2;
  return openSync(destination, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
}

export class LineWriter {
  readonly destination: LogDestination;
  #fd: number;
  #pipe: boolean;
  #pending: string[] = [];
  #pendingBytes = 0;
  #writing = false;
  #timer: Timer | null = null;
  #dropped = 0;
  #reportedDropsAt = 0;
  #reportedErrorAt = 0;
  #closed = false;
  #reopenWanted = false;
  #idle: (() => void)[] = [];
  readonly #maxBuffered: number;
  readonly #reopenEachWrite: boolean;
  readonly #report: (message: string) => void;
  readonly #reportEveryMs: number;

  /** Opens the destination at once, so a wrong path fails when the gateway starts, not on the first line. */
  constructor(destination: LogDestination, options: LineWriterOptions = {}) {
    this.destination = destination;
    this.#fd = openDestination(destination);
    this.#pipe = !isRegularFile(this.#fd);
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.#reopenEachWrite = options.reopenEachWrite ?? false;
    this.#report = options.report ?? (() => {});
    this.#reportEveryMs = options.reportEveryMs ?? 10_000;
  }

  /** Lines dropped since the writer was opened because the destination did not keep up. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one line (without its newline). Never blocks, never throws. */
  write(line: string): void {
    if (this.#closed) return;
    const bytes = line.length + 1;
    if (this.#pendingBytes + bytes > this.#maxBuffered) {
      this.#dropped++;
      this.#reportDrops();
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += bytes;
    if (this.#writing) return;
    if (this.#pendingBytes >= FLUSH_BYTES) this.#flush();
    else this.#timer ??= setTimeout(this.#flush, FLUSH_MS);
  }

  /** Opens the file again after the current write (logrotate moved it away: SIGUSR1). */
  reopen(): void {
    if (this.#fd <= 2) return;
    this.#reopenWanted = true;
    if (!this.#writing) this.#reopenNow();
  }

  /** Resolves once everything queued so far has been written (or dropped). */
  drained(): Promise<void> {
    if (!this.#writing && this.#pending.length === 0) return Promise.resolve();
    if (!this.#writing) this.#flush();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Writes what is queued, then closes the file. A destination that takes longer than `timeoutMs` (a pipe
   * nobody reads) is closed anyway: its waiting lines are lost, the stop is not.
   */
  async close(timeoutMs = 2000): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([this.drained(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#fd > 2) closeQuietly(this.#fd);
  }

  readonly #flush = (): void => {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#writing) return;
    if (this.#pending.length === 0) {
      this.#settle();
      return;
    }
    if (this.#reopenEachWrite) this.#reopenNow();
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = true;
    this.#writeAll(this.#pipe ? pipeChunks(lines) : [Buffer.from(`${lines.join("\n")}\n`)], 0);
  };

  #writeAll(chunks: Buffer[], index: number): void {
    const chunk = chunks[index]!;
    write(this.#fd, chunk, 0, chunk.length, null, (error, written) => {
      if (error) this.#reportError(error);
      else if (written < chunk.length) {
        // A short write (a pipe or a full disk): the rest goes next, still in order.
        chunks[index] = chunk.subarray(written);
        this.#writeAll(chunks, index);
        return;
      }
      if (index + 1 < chunks.length) {
        this.#writeAll(chunks, index + 1);
        return;
      }
      this.#writing = false;
      if (this.#reopenWanted) this.#reopenNow();
      if (this.#pending.length > 0 && (this.#pendingBytes >= FLUSH_BYTES || this.#idle.length > 0))
        this.#flush();
      else if (this.#pending.length > 0) this.#timer ??= setTimeout(this.#flush, FLUSH_MS);
      else this.#settle();
    });
  }

  #settle(): void {
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }

  #reopenNow(): void {
    this.#reopenWanted = false;
    if (this.#fd <= 2 || this.#closed) return;
    try {
      const fd = openDestination(this.destination);
      closeQuietly(this.#fd);
      this.#fd = fd;
      this.#pipe = !isRegularFile(fd);
    } catch (error) {
      // Keep writing to the old file rather than losing lines.
      this.#reportError(error as Error);
    }
  }

  #reportDrops(): void {
    const now = Date.now();
    if (now - this.#reportedDropsAt < this.#reportEveryMs) return;
    this.#reportedDropsAt = now;
    this.#report(
      `log ${this.destination} is not keeping up: ${this.#dropped} line(s) dropped so far (more than ${this.#maxBuffered} bytes waiting)`,
    );
  }

  #reportError(error: Error): void {
    const now = Date.now();
    if (now - this.#reportedErrorAt < this.#reportEveryMs) return;
    this.#reportedErrorAt = now;
    const code = (error as { code?: string }).code;
    this.#report(`writing log ${this.destination} failed (${code ?? error.name}: ${error.message})`);
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Whole lines in pieces of at most PIPE_BUF bytes (a longer line goes alone). */
function pipeChunks(lines: readonly string[]): Buffer[] {
  const chunks: Buffer[] = [];
  let current = "";
  for (const line of lines) {
    const next = `${line}\n`;
    if (current !== "" && Buffer.byteLength(current) + Buffer.byteLength(next) > PIPE_BUF) {
      chunks.push(Buffer.from(current));
      current = "";
    }
    current += next;
  }
  if (current !== "") chunks.push(Buffer.from(current));
  return chunks;
}
