// Responses and errors of the REST admin, in Kong's shapes. Apart from http.ts (request bodies, which need
// the form decoder and zod) so that the node's `GET /` answers without loading those.

import { GatewayError } from "../../errors.ts";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** A non-DAO error: Kong renders these as a bare `{"message": ...}`. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Answered without a body (Kong's bare `kong.response.exit(status)`); the message is for logs and callers. */
  readonly bodyless: boolean;
  constructor(
    status: number,
    message: string,
    headers: Record<string, string> = {},
    options: { bodyless?: boolean } = {},
  ) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.bodyless = options.bodyless ?? false;
  }
}

export const notFound = () => new HttpError(404, "Not found");
export const methodNotAllowed = () => new HttpError(405, "Method not allowed");

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_CONTENT_TYPE, ...headers },
  });
}

export function noContent(headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 204, headers });
}

/** GatewayError → Kong's error object; HttpError → `{message}`; anything else is a bug: masked 500. */
export function errorResponse(error: unknown, request: Request): Response {
  if (error instanceof GatewayError) return json(error.toJSON(), error.status);
  if (error instanceof HttpError)
    return error.bodyless
      ? new Response(null, { status: error.status, headers: error.headers })
      : json({ message: error.message }, error.status, error.headers);
  console.error(`admin ${request.method} ${new URL(request.url).pathname} failed:`, error);
  return json({ message: "An unexpected error occurred" }, 500);
}
