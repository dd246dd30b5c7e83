// Responses, errors and request bodies of the REST admin, in Kong's shapes.

import { readCapped } from "../read-capped.ts";
import { decodeForm, type FieldKinds } from "./form.ts";
import { HttpError } from "./respond.ts";

export {
  errorResponse,
  HttpError,
  JSON_CONTENT_TYPE,
  json,
  methodNotAllowed,
  noContent,
  notFound,
} from "./respond.ts";

/** Admin bodies are configuration, not payloads: anything larger is a mistake or an attack. */
export const ADMIN_BODY_LIMIT = 1024 * 1024;

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
