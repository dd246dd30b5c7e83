// request-transformer: rewrites what goes upstream — path, method, headers, body and query string, in Kong's
// order (kong/plugins/request-transformer/access.lua): uri → method → headers → body → querystring. Values may
// be templates ($(headers.x), $(query_params.x), $(uri_captures.name)); they read the request as the client
// sent it, before any of this plugin's changes, and are compiled when the config is written (template.ts).
import type { PluginContext, PluginDescriptor } from "../contract.ts";
import { encodeArgs, mediaType, parseQuery, type QueryValue } from "../kong-request.ts";
import { renderTemplate, type TemplateEnv } from "../template.ts";
import { compileValue, splitEntry, type Value } from "./entries.ts";
import { type RequestTransformerConfig, requestTransformerConfig } from "./schema.ts";
import {
  applyHeaderPlan,
  type Entry,
  headerPlan,
  type Operations,
  transformArgs,
  transformJsonBody,
  transformMultipart,
} from "./transform.ts";

type Part = "headers" | "querystring" | "body";
type Compiled = { name: string; value: Value | null };
type CompiledOps = {
  remove: string[];
  rename: Compiled[];
  replace: Compiled[];
  add: Compiled[];
  append: Compiled[];
};

const compileEntries = (entries: string[]): Compiled[] =>
  entries.map((entry) => {
    const { name, value } = splitEntry(entry);
    return { name, value: value === "" ? null : compileValue(value) };
  });

function compileOps(config: RequestTransformerConfig, part: Part): CompiledOps {
  return {
    // Kong's remove entries are names (a header entry's text after a colon is ignored).
    remove: config.remove[part].map((entry) => (part === "headers" ? splitEntry(entry).name : entry)),
    rename: compileEntries(config.rename[part]),
    replace: compileEntries(config.replace[part]),
    add: compileEntries(config.add[part]),
    append: compileEntries(config.append[part]),
  };
}

const isEmpty = (ops: CompiledOps) =>
  ops.remove.length + ops.rename.length + ops.replace.length + ops.add.length + ops.append.length === 0;

const usesTemplates = (ops: CompiledOps) =>
  [ops.rename, ops.replace, ops.add, ops.append].some((list) =>
    list.some((e) => typeof e.value === "object"),
  );

/** The request as the client sent it, for templates; each part is read on first use. */
function templateEnv(ctx: PluginContext): TemplateEnv {
  // The live headers are the ones this plugin edits: templates read a copy taken before any change.
  const headers = new Headers(ctx.request.headers);
  let query: Record<string, QueryValue> | null = null;
  const captures = ctx.uriCaptures;
  return {
    headers: (key) => {
      if (typeof key !== "string") return undefined;
      // Kong's header table: case-insensitive, and `x_y` also finds `x-y`.
      return (
        headers.get(key) ?? (key.includes("_") ? headers.get(key.replaceAll("_", "-")) : null) ?? undefined
      );
    },
    query_params: (key) => {
      query ??= parseQuery(ctx.query.slice(1));
      return query[String(key)];
    },
    uri_captures: (key) => {
      if (captures === null) return undefined;
      if (typeof key === "number") return key < captures.length ? captures[key] : undefined;
      const groups = captures.groups;
      return groups !== undefined && Object.hasOwn(groups, key) ? groups[key] : undefined;
    },
  };
}

/** Renders one part's operations for this request (a part without templates is rendered once, at compile). */
function render(ops: CompiledOps, env: TemplateEnv | null): Operations {
  const one = (e: Compiled): Entry => ({
    name: e.name,
    value: e.value === null || typeof e.value === "string" ? e.value : renderTemplate(e.value, env!),
  });
  return {
    remove: ops.remove,
    rename: ops.rename.map(one),
    replace: ops.replace.map(one),
    add: ops.add.map(one),
    append: ops.append.map(one),
  };
}

/** Non-ASCII and spaces in a rendered path are percent-encoded (Kong's set_path escapes them too). */
const escapePath = (path: string) => path.replace(/[^\x21-\x7e]+/g, (s) => encodeURIComponent(s));

export const requestTransformer: PluginDescriptor<RequestTransformerConfig> = {
  name: "request-transformer",
  priority: 801,
  version: "1.0.0",
  get config() {
    return requestTransformerConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config) {
    const parts = {
      headers: compileOps(config, "headers"),
      querystring: compileOps(config, "querystring"),
      body: compileOps(config, "body"),
    };
    const uri = config.replace.uri === null ? null : compileValue(config.replace.uri);
    const method = config.http_method;
    const needsEnv =
      (uri !== null && typeof uri === "object") || Object.values(parts).some((ops) => usesTemplates(ops));
    // Parts without templates are rendered once here.
    const fixed = needsEnv
      ? null
      : {
          headers: render(parts.headers, null),
          querystring: render(parts.querystring, null),
          body: render(parts.body, null),
        };
    const has = {
      headers: !isEmpty(parts.headers),
      querystring: !isEmpty(parts.querystring),
      body: !isEmpty(parts.body),
    };
    const fixedHeaders = fixed === null ? null : headerPlan(fixed.headers);
    const setHeaders = (ctx: PluginContext, env: TemplateEnv | null) => {
      const host = applyHeaderPlan(
        ctx.upstreamHeaders,
        fixedHeaders ?? headerPlan(render(parts.headers, env)),
      );
      if (host !== null) ctx.setUpstreamHost(host);
    };
    // The most common configuration, fixed header operations alone: one synchronous pass over the plan.
    if (fixedHeaders !== null && uri === null && method === null && !has.querystring && !has.body)
      return {
        access(ctx) {
          setHeaders(ctx, null);
          return undefined;
        },
      };

    return {
      // Synchronous unless a body has to be read: an awaited hook costs every request a turn of the loop.
      access(ctx) {
        const env = needsEnv ? templateEnv(ctx) : null;
        const ops = (part: Part) => fixed?.[part] ?? render(parts[part], env);
        if (uri !== null) {
          const path = typeof uri === "string" ? uri : renderTemplate(uri, env!);
          // Kong's set_path refuses a path that does not start with `/` (the request then fails with a 500).
          if (!path.startsWith("/"))
            throw new Error(`request-transformer: uri must start with '/': '${path}'`);
          ctx.setUpstreamPath(escapePath(path));
        }
        const contentType = ctx.request.headers.get("content-type");
        if (method !== null) ctx.setUpstreamMethod(method);
        // Kong: a form body becomes query arguments when the method becomes one without a body.
        const mergesForm =
          method !== null &&
          (method === "GET" || method === "HEAD" || method === "TRACE") &&
          mediaType(contentType) === "application/x-www-form-urlencoded";
        const headersAndQuery = (query: Record<string, QueryValue> | null, body?: () => Promise<void>) => {
          if (has.headers) setHeaders(ctx, env);
          const rest = () => {
            if (!has.querystring) return undefined;
            const { args } = transformArgs(query ?? parseQuery(ctx.query.slice(1)), ops("querystring"), {
              present: true,
            });
            const encoded = encodeArgs(args, true);
            ctx.setUpstreamQuery(encoded === "" ? "" : `?${encoded}`);
            return undefined;
          };
          return body === undefined ? rest() : body().then(rest);
        };
        if (!mergesForm && !has.body) return headersAndQuery(null);
        return (async () => {
          const query = mergesForm ? await formIntoQuery(ctx) : null;
          return headersAndQuery(
            query,
            has.body ? () => transformBody(ctx, contentType, ops("body")) : undefined,
          );
        })();
      },
    };
  },
};

/** The form body's arguments added to the query string (Kong, when the method becomes GET, HEAD or TRACE). */
async function formIntoQuery(ctx: PluginContext): Promise<Record<string, QueryValue> | null> {
  const form = parseQuery(await ctx.readBodyText());
  if (Object.keys(form).length === 0) return null;
  const query = parseQuery(ctx.query.slice(1));
  for (const [name, value] of Object.entries(form)) {
    const current = query[name];
    query[name] =
      current === undefined
        ? value
        : ([] as string[]).concat(current === true ? "true" : current, value === true ? "true" : value);
  }
  ctx.setUpstreamQuery(`?${encodeArgs(query, true)}`);
  return query;
}

/** Body operations for the three media types Kong rewrites; any other body goes as it came. */
async function transformBody(ctx: PluginContext, contentType: string | null, ops: Operations): Promise<void> {
  const type = mediaType(contentType);
  if (type === "application/json") {
    const body = transformJsonBody(await ctx.readBodyText(), ops);
    if (body !== null) ctx.setUpstreamBody(body);
  } else if (type === "application/x-www-form-urlencoded") {
    const text = await ctx.readBodyText();
    const { args, changed } = transformArgs(parseQuery(text), ops, { present: text.length > 0 });
    if (changed) ctx.setUpstreamBody(encodeArgs(args, false));
  } else if (type === "multipart/form-data") {
    const bytes = await ctx.readBodyBytes();
    let form: FormData;
    try {
      form = await new Response(bytes, { headers: { "content-type": contentType! } }).formData();
    } catch {
      // Not a form Bun can read (a broken boundary): sent as received, as Kong sends a body it cannot parse.
      return;
    }
    if (!transformMultipart(form, ops, bytes.byteLength > 0)) return;
    const encoded = new Response(form);
    // Read before the body: once it is consumed, Bun no longer reports the generated boundary.
    const encodedType = encoded.headers.get("content-type")!;
    ctx.setUpstreamBody(new Uint8Array(await encoded.arrayBuffer()), encodedType);
  }
}
