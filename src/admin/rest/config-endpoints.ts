// Kong's declarative endpoints (kong/api/routes/config.lua), in DB-less mode and — Portico's addition — with a
// database too: GET /config exports, POST /config replaces the whole configuration in one transaction
// (check_hash → 304, flatten_errors, 201 with the loaded entities, code 14 errors). POST /config/sync is
// decK's sync in one request: the plan for documents within their select tags, applied unless dry_run.
// Kong's refusals that apply here: 429 while another load runs, 503 once the node is exiting, 413 for a
// body over the limit (Kong's own 413 is LMDB's map filling up, which an in-memory store does not have;
// its 504 is unreachable since loads stopped waiting for the lock, and so it is here: a second load is 429).

import { parseText, readDocument } from "../../declarative/document.ts";
import {
  configurationHash,
  exportConfig,
  formatDocument,
  InvalidConfig,
  type Plan,
  readCurrent,
  syncDocuments,
} from "../../declarative/index.ts";
import { isRecord } from "../../store/entity-def.ts";
import type { AdminContext } from "../context.ts";
import { readCapped } from "../read-capped.ts";
import { HttpError, json } from "./http.ts";
import type { AdminRouter } from "./router.ts";

/** Whole configurations are larger than entity bodies (10,000 routes are a few MB). */
const CONFIG_BODY_LIMIT = 64 * 1024 * 1024;

const TRUTHY = new Set(["1", "true", "on", "yes"]);

function flag(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === "string" && TRUTHY.has(value.toLowerCase()));
}

type ConfigBody = { body: Record<string, unknown> | null; fields: Record<string, unknown> };

/**
 * Kong's body forms: JSON `{"config": "<yaml or json>"}` (or the document object), a form field `config`,
 * or the YAML/JSON document as the raw body. Flags come from the query or beside `config`.
 */
async function readConfigBody(request: Request): Promise<ConfigBody> {
  const bytes = await readCapped(request, CONFIG_BODY_LIMIT);
  if (bytes === null) throw new HttpError(413, "Request body too large");
  const text = new TextDecoder().decode(bytes);
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let fields: Record<string, unknown> = {};
  if (type === "application/x-www-form-urlencoded") fields = Object.fromEntries(new URLSearchParams(text));
  else if (type === "multipart/form-data") {
    const form = await new Response(bytes, {
      headers: { "content-type": request.headers.get("content-type")! },
    })
      .formData()
      .catch(() => {
        throw new HttpError(400, "Cannot parse multipart body");
      });
    for (const [key, value] of form.entries())
      fields[key] = typeof value === "string" ? value : await (value as Blob).text();
  } else if (text.trim() !== "") {
    const parsed = parseText(text, null);
    // `{"config": …}` (with flags beside it), or the document itself; `{}` holds no configuration.
    if ("config" in parsed && !("_format_version" in parsed)) fields = parsed;
    else if (Object.keys(parsed).length > 0) fields = { config: parsed };
  }
  const config = fields.config;
  if (config === undefined || config === null || config === "") return { body: null, fields };
  return { body: isRecord(config) ? config : parseText(String(config), null), fields };
}

/**
 * Kong's code 14 body. Flattened (kong/db/errors.lua declarative_config_flattened), entity errors move from
 * `fields` to `flattened_errors`: `fields` keeps only those of the document itself (an unknown top-level key).
 */
export function invalidConfigBody(error: InvalidConfig, flatten: boolean): Record<string, unknown> {
  return {
    code: 14,
    name: "invalid declarative configuration",
    message: error.message,
    fields: flatten ? error.documentFields : error.fields,
    ...(flatten ? { flattened_errors: error.flattened } : {}),
  };
}

/** Entities by DAO name as loaded (Kong's 201 body): only the collections that hold something. */
async function loadedEntities(context: AdminContext): Promise<Record<string, unknown>> {
  const current = await readCurrent(context.declarative.store);
  return Object.fromEntries([...current].filter(([, rows]) => rows.length > 0));
}

/**
 * One whole load at a time, as Kong's 429 `Currently loading previous configuration`; none once the node is
 * exiting (Kong's 503).
 */
async function exclusively<T>(context: AdminContext, work: () => Promise<T>): Promise<T> {
  if (context.declarative.exiting) throw new HttpError(503, "Portico currently exiting");
  if (context.declarative.loading)
    throw new HttpError(429, "Currently loading previous configuration", { "retry-after": "1" });
  context.declarative.loading = true;
  try {
    return await work();
  } finally {
    context.declarative.loading = false;
  }
}

export function registerConfigEndpoints(router: AdminRouter, context: AdminContext): void {
  const state = context.declarative;
  router.add("/config", {
    GET: async (_request, _params, url) => {
      const format = url.searchParams.get("format") === "json" ? "json" : "yaml";
      const selectTags = (url.searchParams.get("select_tags") ?? "").split(",").filter((t) => t !== "");
      const document = await exportConfig(state.store, { selectTags });
      return json({ config: formatDocument(document, format) });
    },
    POST: async (request, _params, url) => {
      let flatten = flag(url.searchParams.get("flatten_errors"));
      // Kong flattens only errors of a configuration it could read as a table.
      let parsed = false;
      try {
        const { body, fields } = await readConfigBody(request);
        flatten ||= flag(fields.flatten_errors);
        if (body === null) throw new HttpError(400, "expected a declarative configuration");
        parsed = true;
        const hash = configurationHash(body);
        // Kong's check_hash predates its truthy flags: only "1" turns it on.
        const checkHash = [url.searchParams.get("check_hash"), fields.check_hash].some(
          (v) => String(v) === "1",
        );
        if (checkHash && hash === state.hash) return new Response(null, { status: 304 });
        const document = readDocument(body, null);
        return await exclusively(context, async () => {
          await syncDocuments(state.store, [document], { wholeConfiguration: true });
          state.hash = hash;
          return json(await loadedEntities(context), 201);
        });
      } catch (error) {
        if (error instanceof InvalidConfig) return json(invalidConfigBody(error, flatten && parsed), 400);
        throw error;
      }
    },
  });
  router.add("/config/sync", {
    POST: async (request, _params, url) => {
      const dryRun = flag(url.searchParams.get("dry_run"));
      const { body, fields } = await readSyncBody(request);
      try {
        const documents = body.map(({ source, config }) => readDocument(config, source));
        const selectTags = Array.isArray(fields.select_tags)
          ? fields.select_tags.filter((t): t is string => typeof t === "string")
          : [];
        const plan: Plan = await exclusively(context, () =>
          syncDocuments(state.store, documents, { selectTags, dryRun }),
        );
        return json({ plan: { changes: plan.changes, summary: plan.summary } });
      } catch (error) {
        if (error instanceof InvalidConfig)
          return json(
            {
              ...invalidConfigBody(error, false),
              flattened_errors: error.flattened,
              problems: error.problems,
            },
            400,
          );
        throw error;
      }
    },
  });
}

/** `{documents: [{source, config}], select_tags}` or one `{config}`. */
async function readSyncBody(request: Request): Promise<{
  body: { source: string | null; config: Record<string, unknown> }[];
  fields: Record<string, unknown>;
}> {
  const bytes = await readCapped(request, CONFIG_BODY_LIMIT);
  if (bytes === null) throw new HttpError(413, "Request body too large");
  let fields: unknown;
  try {
    fields = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new HttpError(400, "Cannot parse JSON body");
  }
  if (!isRecord(fields)) throw new HttpError(400, "JSON body must be an object");
  const list = Array.isArray(fields.documents) ? fields.documents : [{ config: fields.config }];
  const body = list.map((entry) => {
    if (!isRecord(entry) || !isRecord(entry.config))
      throw new HttpError(400, "expected documents: [{source, config: {_format_version, …}}]");
    return { source: typeof entry.source === "string" ? entry.source : null, config: entry.config };
  });
  if (body.length === 0) throw new HttpError(400, "expected a declarative configuration");
  return { body, fields };
}
