// Responses the gateway writes itself (Kong's kong.response.error): `{"message", "request_id"}` (JSON, or
// HTML/XML/plain text by the client's Accept) with a request id, the gateway's Server token and how long the
// gateway took.
import { errorBody } from "./error-format.ts";

export const MESSAGES = {
  400: "Bad request",
  404: "no Route matched with those values",
  405: "Method not allowed",
  413: "Request size limit exceeded",
  414: "URI too long",
  426: "Please use HTTPS protocol",
  500: "An unexpected error occurred",
  502: "An invalid response was received from the upstream server",
  503: "no Service found with those values",
  504: "The upstream server is timing out",
} as const;

export const NAME_RESOLUTION_FAILED = "name resolution failed";

export function gatewayResponse(
  status: number,
  message: string,
  /** The client's `Accept`: picks JSON, HTML, XML or plain text. */
  accept: string | null,
  requestId: string,
  serverToken: string,
  start: number,
  extra?: Record<string, string>,
): Response {
  const { text: body, contentType } = errorBody(accept, message, requestId);
  const headers: Record<string, string> = {
    "content-type": contentType,
    // Bun would send the same; set here, the log phase knows the size without reading the body.
    "content-length": String(Buffer.byteLength(body)),
    server: serverToken,
    "x-portico-request-id": requestId,
    "x-portico-response-latency": String(Math.round(performance.now() - start)),
    ...extra,
  };
  return new Response(body, { status, headers });
}

/** The answer to a redirect-status https-only route: no body, a Location to the https URL. */
export function redirectResponse(
  status: number,
  location: string,
  requestId: string,
  serverToken: string,
  start: number,
): Response {
  return new Response(null, {
    status,
    headers: {
      location,
      server: serverToken,
      "x-portico-request-id": requestId,
      "x-portico-response-latency": String(Math.round(performance.now() - start)),
    },
  });
}
