// The bundled plugins (no discovery: everything compiles into one binary). The admin API validates configs
// and renders schemas from these descriptors; the snapshot builder compiles them.
import { acl } from "./acl/index.ts";
import { basicAuth } from "./basic-auth/index.ts";
import type { AnyPluginDescriptor } from "./contract.ts";
import { correlationId } from "./correlation-id/index.ts";
import { cors } from "./cors/index.ts";
import { fileLog } from "./file-log/index.ts";
import { httpLog } from "./http-log/index.ts";
import { ipRestriction } from "./ip-restriction/index.ts";
import { jwt } from "./jwt/index.ts";
import { keyAuth } from "./key-auth/index.ts";
import { prometheus } from "./prometheus/index.ts";
import { proxyCache } from "./proxy-cache/index.ts";
import { rateLimiting } from "./rate-limiting/index.ts";
import { requestSizeLimiting } from "./request-size-limiting/index.ts";
import { requestTermination } from "./request-termination/index.ts";
import { requestTransformer } from "./request-transformer/index.ts";
import { responseTransformer } from "./response-transformer/index.ts";

/** Plugin descriptors by name. */
export type PluginCatalog = ReadonlyMap<string, AnyPluginDescriptor>;

export const PLUGIN_CATALOG: PluginCatalog = new Map(
  (
    [
      jwt,
      keyAuth,
      basicAuth,
      acl,
      cors,
      ipRestriction,
      requestSizeLimiting,
      rateLimiting,
      prometheus,
      requestTermination,
      correlationId,
      requestTransformer,
      httpLog,
      fileLog,
      responseTransformer,
      proxyCache,
    ] as AnyPluginDescriptor[]
  ).map((p) => [p.name, p]),
);

/** The bundled plugins' names, sorted (for messages and `GET /plugins/enabled`). */
export function bundledPluginNames(): string[] {
  return [...PLUGIN_CATALOG.keys()].sort();
}
