// The data plane's public face: runtime/ creates one Proxy, feeds it snapshots, and mounts its handlers on
// the proxy listener. Nothing here imports store/, admin/ or runtime/.
import type { Server, WebSocketHandler } from "bun";
import type { ErrorLogger } from "../plugins/log-levels.ts";
import { type AccessLogSink, accessLogger } from "./access-log.ts";
import { LogPhase } from "./log-phase.ts";
import { handle, type ListenerFacts, type PipelineEnv } from "./pipeline.ts";
import { createRequestIds } from "./request-id.ts";
import { gatewayResponse, MESSAGES } from "./responses.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";
import type { TrustedIps } from "./trusted-ips.ts";
import { websocketHandler } from "./websocket.ts";

export type { AccessLogFormat } from "./access-log.ts";
export {
  buildSnapshot,
  type ConfigFault,
  type Snapshot,
  type SnapshotEntities,
  type SnapshotInput,
} from "./snapshot.ts";
export { compileTrustedIps, type TrustedIps, TrustedIpsError } from "./trusted-ips.ts";

export type ProxyOptions = {
  /** Largest request body accepted (413 above). */
  bodyLimit: number;
  /** The gateway's version, for `Server` and `Via` (default "dev"). */
  version?: string;
  /** Longest request target (path + query) accepted, 414 above (default 8 KiB, as nginx). */
  uriLimit?: number;
  /**
   * Largest response Content-Length buffered to dodge Bun.serve's large-response cliff (default 1 MiB; 0
   * turns the workaround off). See relay.ts and bench/README.md.
   */
  bufferMax?: number;
  /** Trusted proxies (`compileTrustedIps`); default: nobody. */
  trustedIps?: TrustedIps | null;
  /** Header a trusted proxy puts the client's address in (default X-Real-IP, as Kong). */
  realIpHeader?: string;
  /** Where a failing plugin (access or log hook) is reported; default stderr. */
  report?: (line: string) => void;
  /** The error log (causes of the gateway's own 5xx answers); default: stderr, with the level in front. */
  errorLog?: ErrorLogger;
  /** One line per request, in this format, handed to `write` after the response went out; default: off. */
  accessLog?: AccessLogSink | null;
};

type FetchHandler = (request: Request, server: Server<unknown>) => Response | Promise<Response> | undefined;

export type Proxy = {
  /** The handler of a plain-HTTP listener. */
  fetch: FetchHandler;
  /** The handler of a listener: `https` when it terminates TLS (its port is learnt from its first request). */
  fetchFor(listener: { https: boolean }): FetchHandler;
  websocket: WebSocketHandler<unknown>;
  swap(snapshot: Snapshot): void;
  current(): Snapshot;
  /** Runs the log phase of the requests answered so far without waiting for the next turn (before a stop). */
  flushLogs(): void;
  /** Retires the snapshot being served without a successor (the node stops): its plugins are cleaned up. */
  retire(): void;
};

export const DEFAULT_URI_LIMIT = 8192;
export const DEFAULT_BUFFER_MAX = 1024 * 1024;

/**
 * The listener that mounts `fetch` must use `idleTimeout: 0`: long upstream calls, long-poll and SSE must not
 * be cut by Bun's idle timer, and a per-request `server.timeout(req, 0)` would cost a native call each time.
 */
export function createProxy(options: ProxyOptions): Proxy {
  let current = buildSnapshot({ version: 0, services: [], routes: [] });
  const version = options.version ?? "dev";
  const report = options.report ?? ((line: string) => console.error(line));
  const errorLog: ErrorLogger =
    options.errorLog ?? ((level, message) => console.error(`[${level}] ${message}`));
  const accessLog = options.accessLog ?? null;
  const env: PipelineEnv = {
    bodyLimit: options.bodyLimit,
    uriLimit: options.uriLimit ?? DEFAULT_URI_LIMIT,
    bufferMax: options.bufferMax ?? DEFAULT_BUFFER_MAX,
    serverToken: `portico/${version}`,
    via: `1.1 portico/${version}`,
    nextRequestId: createRequestIds(),
    trustedIps: options.trustedIps ?? null,
    realIpHeader: (options.realIpHeader ?? "x-real-ip").toLowerCase(),
    report,
    errorLog,
    logsEveryRequest: accessLog !== null,
    accessLogReadsAll: accessLog?.format === "json",
    logPhase: new LogPhase(report, accessLog === null ? null : accessLogger(accessLog)),
  };
  const fetchFor = ({ https }: { https: boolean }): FetchHandler => {
    const listener: ListenerFacts = { https, port: "" };
    return (request, server) => {
      try {
        return handle(request, server, current, env, listener);
      } catch (error) {
        const requestId = env.nextRequestId();
        errorLog("error", `unexpected error: ${(error as Error).stack ?? error}, request_id: "${requestId}"`);
        return gatewayResponse(
          500,
          MESSAGES[500],
          request.headers.get("accept"),
          requestId,
          env.serverToken,
          performance.now(),
        );
      }
    };
  };
  return {
    fetch: fetchFor({ https: false }),
    fetchFor,
    websocket: websocketHandler as WebSocketHandler<unknown>,
    swap(snapshot) {
      const previous = current;
      current = snapshot;
      if (previous !== snapshot) previous.lifecycle.retire();
    },
    current: () => current,
    flushLogs: () => env.logPhase.flush(),
    // The node stops and waits for the cleanups: nothing is left to finish in a later turn.
    retire: () => current.lifecycle.retire(true),
  };
}
