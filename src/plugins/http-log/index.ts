// http-log (Kong's bundled plugin, priority 12): each request's log record (Kong's log serializer, plus the
// custom fields) goes to an HTTP collector — one JSON object per request with max_batch_size 1, else a JSON
// array per batch — through a queue per proxy worker with batching, retries and a bound (queue.ts). The log
// phase only serialises the entry and queues it: a slow or dead collector never touches proxied traffic.
import type { PluginDescriptor } from "../contract.ts";
import { applyCustomFields, compileCustomFields } from "../log-fields.ts";
import { BatchQueue } from "./queue.ts";
import { type HttpLogConfig, httpLogConfig } from "./schema.ts";

/** The collector's URL without credentials, and the headers every request carries. */
function requestParts(config: HttpLogConfig): { url: string; headers: Record<string, string> } {
  const url = new URL(config.http_endpoint);
  const headers: Record<string, string> = { ...config.headers, "content-type": config.content_type };
  // Credentials in the URL become Basic authentication (fetch would not send them itself).
  if (url.username !== "" || url.password !== "") {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    url.username = "";
    url.password = "";
  }
  return { url: url.href, headers };
}

export const httpLog: PluginDescriptor<HttpLogConfig> = {
  name: "http-log",
  priority: 12,
  version: "1.0.0",
  get config() {
    return httpLogConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  // Kong encrypts the endpoint (it may carry user:password); header values carry tokens (Authorization).
  secrets: ["http_endpoint", "headers.*"],
  compile(config, env, scope) {
    const { url, headers } = requestParts(config);
    const fields = compileCustomFields(config.custom_fields);
    const single = config.queue.max_batch_size === 1;
    // Bun's fetch pools connections itself; `keepalive` (the idle time of a pooled connection) is not settable.
    const send = async (batch: readonly string[]) => {
      const body = single ? batch[0]! : `[${batch.join(",")}]`;
      const response = await fetch(url, {
        method: config.method,
        headers,
        body,
        signal: AbortSignal.timeout(config.timeout),
      });
      // Read to the end, so the connection goes back to the pool.
      await response.arrayBuffer();
      if (response.status >= 300)
        throw new Error(`request to ${url} returned status code ${response.status}`);
    };
    const queue = new BatchQueue(`http-log ${scope.id}`, config.queue, send, env.errorLog);
    return {
      log(_ctx, entry) {
        const record = entry.serialize();
        applyCustomFields(record, fields);
        queue.add(JSON.stringify(record));
      },
      cleanup: () => queue.stop(),
    };
  },
};
