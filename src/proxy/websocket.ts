// WebSocket proxying: open the upstream socket first (so the subprotocol it chose can be echoed to the
// client and a dead upstream is a clean 502), then upgrade the client and relay frames and close codes both
// ways. Frames from the upstream that arrive before the client socket is open are queued.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";

export type RelayData = {
  upstream: WebSocket;
  client: ServerWebSocket<RelayData> | null;
  /** Upstream frames received before the client socket opened. */
  queued: (string | ArrayBuffer | Uint8Array)[];
  closed: boolean;
};

/** Request headers the WebSocket client sets itself. */
const HANDSHAKE_HEADERS = [
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "sec-websocket-accept",
];

/** 1005 (no status) and 1006 (abnormal) may not be sent; pass the nearest code that can be. */
function sendableCode(code: number): number {
  if (code === 1005 || code === 0) return 1000;
  if (code === 1006 || code === 1015 || code === 1004) return 1011;
  return code;
}

function closeUpstream(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(sendableCode(code), reason);
  } catch {
    socket.close();
  }
}

export type UpgradeResult = { ok: true } | { ok: false; failure: "refused" | "timeout" };

/**
 * Connects to the upstream and upgrades the client. `headers` are the rewritten client headers (hop-by-hop
 * and X-Forwarded-* handled by the caller).
 */
export async function upgradeWebSocket(
  request: Request,
  server: Server<unknown>,
  url: string,
  headers: Headers,
  timeoutMs: number,
  extraResponseHeaders: Record<string, string>,
  /** The service's upstream TLS (wss): Bun's WebSocket client would otherwise always verify. */
  tls?: object,
): Promise<UpgradeResult> {
  const offered = request.headers.get("sec-websocket-protocol");
  const protocols = offered ? offered.split(",").map((p) => p.trim()) : [];
  for (const name of HANDSHAKE_HEADERS) headers.delete(name);
  const upstream = new WebSocket(url, { headers, protocols, ...(tls ? { tls } : {}) } as unknown as string[]);
  upstream.binaryType = "arraybuffer";
  const data: RelayData = { upstream, client: null, queued: [], closed: false };
  upstream.onmessage = (event) => {
    const frame = event.data as string | ArrayBuffer;
    if (data.client !== null) data.client.send(frame);
    else data.queued.push(frame);
  };
  const opened = await new Promise<"open" | "refused" | "timeout">((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    upstream.onopen = () => {
      clearTimeout(timer);
      resolve("open");
    };
    upstream.onerror = () => {
      clearTimeout(timer);
      resolve("refused");
    };
    upstream.onclose = () => {
      clearTimeout(timer);
      resolve("refused");
    };
  });
  if (opened !== "open") {
    upstream.onclose = null;
    upstream.onerror = null;
    try {
      upstream.close();
    } catch {}
    return { ok: false, failure: opened };
  }
  upstream.onclose = (event) => {
    data.closed = true;
    data.client?.close(sendableCode(event.code), event.reason);
  };
  upstream.onerror = () => {
    data.closed = true;
    data.client?.close(1011, "upstream error");
  };
  const responseHeaders: Record<string, string> = { ...extraResponseHeaders };
  if (upstream.protocol) responseHeaders["sec-websocket-protocol"] = upstream.protocol;
  if (!server.upgrade(request, { data, headers: responseHeaders })) {
    closeUpstream(upstream, 1011, "");
    return { ok: false, failure: "refused" };
  }
  return { ok: true };
}

export const websocketHandler: WebSocketHandler<RelayData> = {
  open(ws) {
    ws.data.client = ws;
    for (const frame of ws.data.queued) ws.send(frame);
    ws.data.queued = [];
    // The upstream may have gone while the handshake was answered.
    if (ws.data.closed) ws.close(1000);
  },
  message(ws, message) {
    if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(message);
  },
  close(ws, code, reason) {
    if (!ws.data.closed) {
      ws.data.closed = true;
      closeUpstream(ws.data.upstream, code, reason);
    }
  },
};
