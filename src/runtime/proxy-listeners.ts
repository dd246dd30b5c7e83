// The proxy's listeners of one plane (thread): one Bun.serve per `--proxy-listen` entry, plain or TLS, with
// HTTP/2 and HTTP/3 as flagged. Bun picks the certificate per connection by SNI from the `tls` list, but
// `server.reload()` does not change certificates (checked on Bun 1.4.5), so new certificates are put in
// place by starting a second server on the same port (SO_REUSEPORT) and letting the old one finish its
// requests: new connections get the new certificates, no restart.
import type { Server, WebSocketHandler } from "bun";
import type { TlsEntry } from "../proxy/tls-entries.ts";
import type { Listen } from "./config.ts";
import { listen } from "./listen.ts";

type FetchHandler = (request: Request, server: Server<unknown>) => Response | Promise<Response> | undefined;

export type ListenerHandlers = {
  fetchFor(listener: { https: boolean }): FetchHandler;
  websocket: WebSocketHandler<unknown>;
};

type Bound = { listen: Listen; fetch: FetchHandler; server: Server<unknown> };

export class ProxyListeners {
  readonly #bound: Bound[] = [];
  readonly #reusePort: boolean;
  readonly #websocket: WebSocketHandler<unknown>;
  #tls: readonly TlsEntry[];

  /**
   * @param reusePort several planes share the ports (worker threads); TLS listeners always set it, so
   *   that a certificate change can bind the port again beside the old server.
   */
  constructor(
    listens: readonly Listen[],
    reusePort: boolean,
    handlers: ListenerHandlers,
    tls: readonly TlsEntry[],
    count: () => void,
  ) {
    this.#reusePort = reusePort;
    this.#websocket = handlers.websocket;
    this.#tls = tls;
    try {
      for (const address of listens) {
        const inner = handlers.fetchFor({ https: address.ssl });
        const fetch: FetchHandler = (request, server) => {
          count();
          return inner(request, server);
        };
        this.#bound.push({ listen: address, fetch, server: this.#serve(address, address.port, fetch) });
      }
    } catch (error) {
      for (const bound of this.#bound) void bound.server.stop(true);
      throw error;
    }
  }

  #serve(address: Listen, port: number, fetch: FetchHandler): Server<unknown> {
    return listen(
      "proxy",
      { ...address, port },
      {
        // Upstream calls, long-poll and SSE may take longer than Bun's 10 s default idle timeout.
        idleTimeout: 0,
        // The proxy enforces the body limit itself, to answer 413 in JSON (Bun's own 413 has no body).
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        reusePort: this.#reusePort || address.ssl,
        ...(address.ssl ? { tls: [...this.#tls] } : {}),
        ...(address.http2 ? { http2: true } : {}),
        ...(address.http3 ? { http3: true } : {}),
        fetch,
        websocket: this.#websocket,
      },
    );
  }

  /** The bound ports, in `--proxy-listen` order. */
  ports(): number[] {
    return this.#bound.map((b) => b.server.port!);
  }

  pendingRequests(): number {
    let pending = 0;
    for (const bound of this.#bound) pending += bound.server.pendingRequests;
    return pending;
  }

  /**
   * Serves `tls` on every TLS listener from now on: new connections get it, open ones finish as they are.
   * When a new server cannot start, the old ones keep serving and the error is thrown.
   */
  async setTls(tls: readonly TlsEntry[]): Promise<void> {
    const previous = this.#tls;
    this.#tls = tls;
    const secured = this.#bound.filter((b) => b.listen.ssl);
    const started: Server<unknown>[] = [];
    try {
      for (const bound of secured) started.push(this.#serve(bound.listen, bound.server.port!, bound.fetch));
    } catch (error) {
      this.#tls = previous;
      await Promise.all(started.map((server) => server.stop(true)));
      throw error;
    }
    const retiring = secured.map((bound, i) => {
      const old = bound.server;
      bound.server = started[i]!;
      return old;
    });
    await Promise.all(retiring.map((server) => server.stop(false)));
  }

  stop(): Promise<unknown> {
    return Promise.all(this.#bound.map((b) => b.server.stop(false)));
  }
}
