// The write-only `url` shorthand of services (Kong: it overrides protocol/host/port/path in the same body,
// and clears `path` when the URL has none).

export type UrlParts = {
  protocol: string | undefined;
  host: string | null;
  port: number | undefined;
  path: string | null;
};

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::([^/?#]*))?([^?#]*)/;

/** Splits a URL the way Kong's socket.url does: lenient, leaving validation to the field rules. */
export function splitUrl(url: string): UrlParts {
  const match = URL_SHAPE.exec(url);
  // Not a URL at all: Kong's parser sees only a path, so only host and path are reported.
  if (!match) return { protocol: undefined, host: null, port: undefined, path: url };
  const protocol = match[1]!.toLowerCase();
  const rawHost = match[2]!;
  const host = rawHost === "" ? null : rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
  const portText = match[3];
  const path = match[4] === "" || match[4] === undefined ? null : match[4];
  let port: number;
  if (portText !== undefined && portText !== "")
    port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  else port = protocol === "https" ? 443 : 80;
  return { protocol, host, port, path };
}

/** Replaces `url` in a service body with the fields it stands for. */
export function expandUrlShorthand(body: Record<string, unknown>): Record<string, unknown> {
  if (!("url" in body)) return body;
  const { url, ...rest } = body;
  if (url === null || url === undefined) return rest;
  if (typeof url !== "string") return { ...rest, url };
  if (url === "") return { ...rest, url };
  const parts = splitUrl(url);
  const expanded: Record<string, unknown> = { ...rest, host: parts.host, path: parts.path };
  if (parts.protocol !== undefined) expanded.protocol = parts.protocol;
  if (parts.port !== undefined) expanded.port = Number.isNaN(parts.port) ? "invalid" : parts.port;
  return expanded;
}
