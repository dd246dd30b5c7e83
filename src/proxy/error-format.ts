// The body of an answer the gateway writes itself, in the format the client's `Accept` asks for (Kong's
// kong.response.error): JSON by default, HTML, XML or plain text when the client prefers one of those.

export type ErrorBody = { text: string; contentType: string };

type Format = "json" | "html" | "xml" | "plain";

const CONTENT_TYPES: Record<Format, string> = {
  json: "application/json; charset=utf-8",
  html: "text/html; charset=utf-8",
  xml: "application/xml; charset=utf-8",
  plain: "text/plain; charset=utf-8",
};

/** `type/subtype` → format; a `type/*` range picks the type's default; anything else is JSON. */
function formatOf(range: string): Format {
  const [type, subtype] = range.toLowerCase().split("/") as [string, string];
  if (subtype === "*") return type === "text" ? "plain" : "json";
  switch (`${type}/${subtype}`) {
    case "text/html":
      return "html";
    case "application/xml":
      return "xml";
    case "text/plain":
      return "plain";
    default:
      return "json";
  }
}

const MEDIA_RANGE = /^\s*((?:[a-z0-9][a-z0-9!#$&^_+.-]*|\*)\/(?:[a-z0-9][a-z0-9!#$&^_+.-]*|\*))\s*(;.*)?$/i;
const QUALITY = /;\s*q\s*=\s*(1(?:\.0{0,3})?|0(?:\.\d{0,3})?)\s*(?:;|$)/i;

/** The first range with the highest quality wins; no `Accept`, or nothing recognisable, is JSON. */
export function negotiateFormat(accept: string | null): Format {
  if (accept === null || accept === "") return "json";
  let format: Format = "json";
  let best = 0;
  for (const part of accept.split(",")) {
    const match = MEDIA_RANGE.exec(part);
    if (!match) continue;
    const q = match[2] === undefined ? 1 : Number(QUALITY.exec(match[2])?.[1] ?? 1);
    if (q > best) {
      best = q;
      format = formatOf(match[1]!);
    }
  }
  return format;
}

const escapeMarkup = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `{"message", "request_id"}` rendered in the negotiated format. */
export function errorBody(accept: string | null, message: string, requestId: string): ErrorBody {
  const format = negotiateFormat(accept);
  const contentType = CONTENT_TYPES[format];
  switch (format) {
    case "json":
      return { text: JSON.stringify({ message, request_id: requestId }), contentType };
    case "plain":
      return { text: `${message}\nrequest_id: ${requestId}\n`, contentType };
    case "html":
      return {
        text:
          '<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n' +
          `  <body>\n    <h1>Error</h1>\n    <p>${escapeMarkup(message)}.</p>\n` +
          `    <p>request_id: ${escapeMarkup(requestId)}</p>\n  </body>\n</html>\n`,
        contentType,
      };
    case "xml":
      return {
        text:
          '<?xml version="1.0" encoding="UTF-8"?>\n<error>\n' +
          `  <message>${escapeMarkup(message)}</message>\n  <requestid>${escapeMarkup(requestId)}</requestid>\n</error>\n`,
        contentType,
      };
  }
}
