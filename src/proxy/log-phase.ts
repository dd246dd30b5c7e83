// The log phase: once a response is handed over, its transaction learns the status and size and is queued;
// the queue is drained on the next turn of the event loop (many requests per turn under load), running the
// plugins' log hooks and then the access log. Nothing here delays a response.
import { runLog } from "../plugins/chain.ts";
import type { Transaction } from "./transaction.ts";

export class LogPhase {
  #queue: Transaction[] = [];
  #scheduled = false;
  readonly #report: (line: string) => void;
  readonly #accessLog: ((tx: Transaction) => void) | null;

  constructor(report: (line: string) => void, accessLog: ((tx: Transaction) => void) | null = null) {
    this.#report = report;
    this.#accessLog = accessLog;
  }

  push(tx: Transaction): void {
    this.#queue.push(tx);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#drain);
  }

  /** Runs the log phase of every request queued so far, now (the gateway is stopping). */
  flush(): void {
    this.#drain();
  }

  readonly #hookFailed = (name: string, error: unknown): void =>
    this.#report(`plugin ${name} log hook failed: ${(error as Error)?.stack ?? error}`);

  readonly #drain = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    for (const tx of queue) {
      const plugins = tx.plugins;
      if (plugins?.chain.hasLog) runLog(plugins.chain, plugins, tx, this.#hookFailed);
      if (this.#accessLog !== null)
        try {
          this.#accessLog(tx);
        } catch (error) {
          this.#report(`access log failed: ${(error as Error)?.stack ?? error}`);
        }
      tx.onLogged?.();
    }
  };
}

/** Statuses whose responses carry no body. */
function bodiless(status: number, method: string): boolean {
  return method === "HEAD" || status < 200 || status === 204 || status === 304;
}

/**
 * Hands the answer on to the client and queues the transaction for its log phase once its size is known:
 * at once when the length is declared, after the last byte for a streamed upstream body (counted as it
 * passes), or after measuring a copy for a gateway-made body of undeclared length.
 */
export function finish(
  tx: Transaction,
  answer: Response | Promise<Response>,
  phase: LogPhase,
): Response | Promise<Response> {
  if (answer instanceof Promise)
    return answer.then(
      (response) => complete(tx, response, phase),
      (error) => {
        failed(tx, phase);
        throw error;
      },
    );
  return complete(tx, answer, phase);
}

/** The answer failed to be produced (a rejection): logged as a 500, as Kong logs a request whose handler failed. */
export function failed(tx: Transaction, phase: LogPhase): void {
  tx.status = 500;
  tx.doneAt = performance.now();
  phase.push(tx);
}

/** `finish` for an answer in hand. */
export function complete(tx: Transaction, response: Response | undefined, phase: LogPhase): Response {
  // A WebSocket upgrade hands Bun nothing back.
  if (response === undefined) {
    tx.status = 101;
    tx.doneAt = performance.now();
    phase.push(tx);
    return response as unknown as Response;
  }
  const headers = response.headers;
  return completeWith(tx, response, response.status, headers, headers.get("content-length"), -1, phase);
}

/**
 * Settles the log record of an answer whose status, headers and Content-Length the caller has read already
 * (the upstream call reads them anyway): no second native read of any of them.
 * @param now performance.now() when the caller has just read it (-1: read here) — the moment the answer is
 * handed over when its length is declared
 */
export function completeWith(
  tx: Transaction,
  response: Response,
  status: number,
  headers: Headers,
  declared: string | null,
  now: number,
  phase: LogPhase,
): Response {
  tx.status = status;
  tx.responseHeaders = headers;
  const noBody = bodiless(status, tx.method);
  if (noBody || declared !== null || tx.bodyReadAt >= 0) {
    if (declared !== null && !noBody) tx.bodySize = Number(declared) || 0;
    tx.doneAt = now < 0 ? performance.now() : now;
    phase.push(tx);
    return response;
  }
  if (tx.source === "upstream" && response.body !== null) {
    const counted = countBody(response.body, tx, () => {
      tx.doneAt = tx.bodyReadAt = performance.now();
      phase.push(tx);
    });
    return new Response(counted, { status, statusText: response.statusText, headers });
  }
  // A plugin's own answer without Content-Length: measure a copy (its body is in memory).
  tx.doneAt = performance.now();
  response
    .clone()
    .arrayBuffer()
    .then(
      (bytes) => {
        tx.bodySize = bytes.byteLength;
      },
      () => {},
    )
    .finally(() => phase.push(tx));
  return response;
}

/** Passes a streamed body through, counting its bytes; `done` runs once, at its end, error or cancel. */
function countBody(
  body: ReadableStream<Uint8Array>,
  tx: Transaction,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    done();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          end();
          controller.error(error);
          return;
        }
        if (chunk.done) {
          controller.close();
          end();
          return;
        }
        tx.bodySize += chunk.value.byteLength;
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        end();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
