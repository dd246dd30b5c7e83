// Buffered, bounded, never-blocking log output (the access log, the error log, file-log). Lines are encoded
// into 64 KiB byte chunks as they come (a line's string dies at once instead of living, and surviving
// collections, until its batch is written; no join and no second copy when the batch goes out) and written
// in batches by node:fs's asynchronous write, which runs on Bun's I/O thread pool: a
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
/** Lines are encoded into chunks of this size (a longer line gets a chunk of its own). */
const CHUNK_BYTES = FLUSH_BYTES;
/** Chunks kept for reuse once written. */
const SPARE_CHUNKS = 2;

/** Node's and Bun's Buffer method (not in the typings): encodes at `offset`, returns the bytes written. */
type Utf8Writable = Buffer & { utf8Write(text: string, offset: number): number };
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
  /** Filled chunks waiting to be written (each the used part of its chunk), in order. */
  #full: Buffer[] = [];
  /** The chunk lines are being added to, and how much of it is used. */
  #current: Buffer | null = null;
  #fill = 0;
  /** The chunks the waiting pieces are part of; then those of the batch being written, reused once it is. */
  #fullChunks: Buffer[] = [];
  #inFlight: Buffer[] = [];
  #spare: Buffer[] = [];
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
    const chunk = this.#room(line.length * 3 + 1) as Utf8Writable;
    const at = this.#fill;
    const written = chunk.utf8Write(line, at);
    chunk[at + written] = 0x0a;
    this.#added(written + 1);
  }

  /**
   * Queues one line given as its bytes (`length` of them from the start of `bytes`, without the newline):
   * a caller that assembles its lines as bytes (the combined access log) copies them once, here.
   */
  writeBytes(bytes: Buffer, length: number): void {
    if (this.#closed) return;
    const chunk = this.#room(length + 1);
    const at = this.#fill;
    bytes.copy(chunk, at, 0, length);
    chunk[at + length] = 0x0a;
    this.#added(length + 1);
  }

  /** The chunk to add a line of at most `most` bytes to, from `#fill` on. */
  #room(most: number): Buffer {
    const current = this.#current;
    if (current !== null && current.length - this.#fill >= most) return current;
    if (current !== null && this.#fill > 0) {
      this.#full.push(current.subarray(0, this.#fill));
      this.#fullChunks.push(current);
    }
    const chunk =
      most > CHUNK_BYTES ? Buffer.allocUnsafe(most) : (this.#spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES));
    this.#current = chunk;
    this.#fill = 0;
    return chunk;
  }

  /** A line of `bytes` bytes was encoded at `#fill`: kept, or dropped when too much waits already. */
  #added(bytes: number): void {
    if (this.#pendingBytes + bytes > this.#maxBuffered) {
      this.#dropped++;
      this.#reportDrops();
      return;
    }
    this.#fill += bytes;
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
    if (!this.#writing && this.#pendingBytes === 0) return Promise.resolve();
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
    if (this.#pendingBytes === 0) {
      this.#settle();
      return;
    }
    if (this.#reopenEachWrite) this.#reopenNow();
    const current = this.#current!;
    const batch = this.#full;
    const chunks = this.#fullChunks;
    if (this.#fill > 0) {
      batch.push(current.subarray(0, this.#fill));
      chunks.push(current);
    }
    this.#inFlight = chunks;
    this.#full = [];
    this.#fullChunks = [];
    this.#current = null;
    this.#fill = 0;
    this.#pendingBytes = 0;
    this.#writing = true;
    this.#writeAll(this.#pipe ? pipeChunks(batch) : batch, 0);
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
      for (const written of this.#inFlight)
        if (written.length === CHUNK_BYTES && this.#spare.length < SPARE_CHUNKS) this.#spare.push(written);
      this.#inFlight = [];
      if (this.#reopenWanted) this.#reopenNow();
      if (this.#pendingBytes > 0 && (this.#pendingBytes >= FLUSH_BYTES || this.#idle.length > 0))
        this.#flush();
      else if (this.#pendingBytes > 0) this.#timer ??= setTimeout(this.#flush, FLUSH_MS);
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

/** Whole lines in pieces of at most PIPE_BUF bytes (a longer line goes alone); each piece ends a line. */
function pipeChunks(pieces: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const piece of pieces) {
    let start = 0;
    while (start < piece.length) {
      if (piece.length - start <= PIPE_BUF) {
        out.push(start === 0 ? piece : piece.subarray(start));
        break;
      }
      let end = piece.lastIndexOf(0x0a, start + PIPE_BUF - 1);
      if (end < start) end = piece.indexOf(0x0a, start + PIPE_BUF);
      out.push(piece.subarray(start, end + 1));
      start = end + 1;
    }
  }
  return out;
}
