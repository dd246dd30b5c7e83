// response-transformer: rewrites the response's headers, and the top-level keys of a JSON body, on whatever
// goes out — the upstream's response, another plugin's answer or a gateway error, as Kong's header and body
// filters do (kong/plugins/response-transformer/handler.lua). A body is read only when there are JSON
// operations and the response is JSON; any other body streams through untouched. A JSON body is buffered
// up to MAX_BUFFERED bytes: a larger one goes out unchanged (what was read, then the rest, still streamed).
import type { PluginContext, PluginDescriptor } from "../contract.ts";
import { type ResponseTransformerConfig, responseTransformerConfig } from "./schema.ts";
import {
  entries,
  type HeaderOps,
  isJsonBody,
  type JsonOps,
  jsonEntries,
  transformHeaders,
  transformJson,
} from "./transform.ts";

/** The largest JSON body rewritten (Kong buffers whatever comes; a gateway must not hold unbounded bodies). */
export const MAX_BUFFERED = 8 * 1024 * 1024;

/** Reads a body up to `limit` bytes: the whole of it, or the chunks read so far and the reader to go on with. */
async function readUpTo(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<
  | { complete: true; bytes: Uint8Array<ArrayBuffer> }
  | { complete: false; chunks: Uint8Array[]; reader: ReadableStreamDefaultReader<Uint8Array> }
> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { complete: true, bytes: Buffer.concat(chunks) };
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) return { complete: false, chunks, reader };
  }
}

/** The chunks already read, then the rest of the body as it streams. */
function replay(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = chunks.shift();
        if (next !== undefined) return controller.enqueue(next);
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

export const responseTransformer: PluginDescriptor<ResponseTransformerConfig> = {
  name: "response-transformer",
  priority: 800,
  version: "1.0.0",
  get config() {
    return responseTransformerConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config, env) {
    const headers: HeaderOps = {
      remove: config.remove.headers,
      rename: entries(config.rename.headers),
      replace: entries(config.replace.headers),
      add: entries(config.add.headers),
      append: entries(config.append.headers),
    };
    const json: JsonOps = {
      remove: config.remove.json,
      rename: entries(config.rename.json),
      replace: jsonEntries(config.replace.json, config.replace.json_types),
      add: jsonEntries(config.add.json, config.add.json_types),
      append: jsonEntries(config.append.json, config.append.json_types),
    };
    const rewritesJson =
      json.remove.length + json.rename.length + json.replace.length + json.add.length + json.append.length >
      0;
    return {
      // Synchronous unless a JSON body is rewritten: an awaited hook costs every response a turn of the loop.
      response(ctx, response) {
        transformHeaders(response.headers, headers);
        if (!rewritesJson || response.body === null || !isJsonBody(response.headers.get("content-type")))
          return undefined;
        return rewrite(ctx, response, response.body);
      },
    };

    async function rewrite(
      ctx: PluginContext,
      response: Response,
      stream: ReadableStream<Uint8Array>,
    ): Promise<Response | undefined> {
      const announced = response.headers.get("content-length");
      if (announced !== null && Number(announced) > MAX_BUFFERED) {
        env.log(
          `response-transformer: JSON body of ${announced} bytes left unchanged (over ${MAX_BUFFERED})`,
        );
        return undefined;
      }
      const read = await readUpTo(stream, MAX_BUFFERED);
      const init = { status: response.status, statusText: response.statusText, headers: response.headers };
      if (!read.complete) {
        env.log(
          `response-transformer: JSON body on request ${ctx.requestId} left unchanged (over ${MAX_BUFFERED} bytes)`,
        );
        return new Response(replay(read.chunks, read.reader), init);
      }
      const text = Buffer.from(read.bytes).toString("utf8");
      const rewritten = transformJson(text, json);
      // A body that is not a JSON object goes out as it came (Kong logs "failed parsing json body").
      const body = rewritten ?? read.bytes;
      response.headers.set(
        "content-length",
        String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength),
      );
      response.headers.delete("transfer-encoding");
      return new Response(body, init);
    }
  },
};
