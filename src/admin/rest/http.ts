// Responses, errors and request bodies of the REST admin, in Kong's shapes.

import { GatewayError } from "../../errors.ts";
import { readCapped } from "../read-capped.ts";
import { decodeForm, type FieldKinds } from "./form.ts";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
/** Admin bodies are configuration, not payloads: anything larger is a mistake or an attack. */
export const ADMIN_BODY_LIMIT = 1024 * 1024;

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

function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Reads at most ADMIN_BODY_LIMIT bytes; a larger body is a JSON 413. */
async function readLimitedBytes(request: Request): Promise<Uint8Array<ArrayBuffer>> {
  const body = await readCapped(request, ADMIN_BODY_LIMIT);
  if (body === null) throw new HttpError(413, "Request body too large");
  return body;
}

async function readLimitedText(request: Request): Promise<string> {
  return new TextDecoder().decode(await readLimitedBytes(request));
}

/** Field kinds, or a function choosing them from the raw form pairs (a plugin's config depends on its name). */
export type BodyKinds = FieldKinds | ((pairs: readonly [string, string][]) => FieldKinds);

/**
 * Reads a write's body: JSON, url-encoded or multipart form (decoded with Kong's form rules and typed by
 * the entity's fields). No body means `{}`; any other content type is 415 with an empty body (Kong).
 */
export async function readBody(request: Request, bodyKinds: BodyKinds): Promise<Record<string, unknown>> {
  const kindsFor = (pairs: readonly [string, string][]) =>
    typeof bodyKinds === "function" ? bodyKinds(pairs) : bodyKinds;
  const type = mediaType(request);
  const hasBody = request.body !== null && request.headers.get("content-length") !== "0";
  if (type === "application/json" || (type === "" && !hasBody)) {
    const text = await readLimitedText(request);
    if (text.trim() === "") return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HttpError(400, "Cannot parse JSON body");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new HttpError(400, "JSON body must be an object");
    return parsed as Record<string, unknown>;
  }
  if (type === "application/x-www-form-urlencoded") {
    const text = await readLimitedText(request);
    const pairs = [...new URLSearchParams(text)];
    return decodeForm(pairs, kindsFor(pairs));
  }
  if (type === "multipart/form-data") {
    const bytes = await readLimitedBytes(request);
    let entries: [string, string | Blob][];
    try {
      const form = await new Response(new Blob([bytes]), {
        headers: { "content-type": request.headers.get("content-type") ?? "" },
      }).formData();
      entries = [];
      form.forEach((value, key) => {
        entries.push([key, value]);
      });
    } catch {
      throw new HttpError(400, "Cannot parse multipart body");
    }
    const pairs: [string, string][] = [];
    for (const [key, value] of entries)
      pairs.push([key, typeof value === "string" ? value : await value.text()]);
    return decodeForm(pairs, kindsFor(pairs));
  }
  // Kong answers 415 with no body at all.
  throw new HttpError(
    415,
    `Unsupported Content-Type '${type || "(none)"}': use application/json or a form`,
    {},
    { bodyless: true },
  );
}

/** Query-string arguments merged into one object with the same typing rules as form bodies. */
export function readQuery(url: URL, kinds: FieldKinds): Record<string, unknown> {
  return decodeForm([...url.searchParams], kinds);
}
