// request-transformer's operations on each part of the request, in Kong's order within a part: remove →
// rename → replace (only what is present) → add (only what is absent) → append (kong/plugins/request-
// transformer/access.lua). Values arrive rendered; nothing here reads the request itself.
import type { QueryValue } from "../kong-request.ts";

/** One entry: a name and its rendered value (null: the entry has none). */
export type Entry = { name: string; value: string | null };

/** The five operations on one part of the request (rename's value is the new name). */
export type Operations = {
  remove: readonly string[];
  rename: readonly Entry[];
  replace: readonly Entry[];
  add: readonly Entry[];
  append: readonly Entry[];
};

/** Kong's append_value: a single value becomes a list, a list grows, anything else starts a new list. */
export function appendValue(current: unknown, value: unknown): unknown[] {
  if (typeof current === "string") return [current, value];
  if (Array.isArray(current)) return [...current, value];
  return [value];
}

/** An entry that has its value. */
type Valued = { name: string; value: string };

/**
 * Header operations made ready to apply: Host taken out of them (it is never removed, renamed or added;
 * replacing or appending it sets the Host sent upstream — the last such value is `host`), entries without a
 * value and case-only renames dropped. Prepared once when the values are fixed (no templates).
 */
export type HeaderPlan = {
  remove: readonly string[];
  rename: readonly Valued[];
  replace: readonly Valued[];
  add: readonly Valued[];
  append: readonly Valued[];
  host: string | null;
};

const isHost = (name: string) => name.toLowerCase() === "host";

export function headerPlan(ops: Operations): HeaderPlan {
  const valued = (list: readonly Entry[]) =>
    list.filter((e): e is Valued => e.value !== null && !isHost(e.name));
  let host: string | null = null;
  for (const { name, value } of [...ops.replace, ...ops.append])
    if (value !== null && isHost(name)) host = value;
  return {
    remove: ops.remove.filter((name) => !isHost(name)),
    // Headers are case-insensitive: a rename that only changes case changes nothing on the wire here.
    rename: valued(ops.rename).filter(({ name, value }) => name.toLowerCase() !== value.toLowerCase()),
    replace: valued(ops.replace),
    add: valued(ops.add),
    append: valued(ops.append),
    host,
  };
}

/** Applies a plan to the headers that go upstream; returns the Host to send, or null to keep it. */
export function applyHeaderPlan(headers: Headers, plan: HeaderPlan): string | null {
  for (const name of plan.remove) headers.delete(name);
  for (const { name, value } of plan.rename) {
    const current = headers.get(name);
    if (current === null) continue;
    headers.delete(name);
    headers.set(value, current);
  }
  for (const { name, value } of plan.replace) if (headers.has(name)) headers.set(name, value);
  for (const { name, value } of plan.add) if (!headers.has(name)) headers.set(name, value);
  for (const { name, value } of plan.append) headers.append(name, value);
  return plan.host;
}

/**
 * Header operations on the headers that go upstream. Host is never removed, renamed or added; replacing it
 * (or appending to it) sets the Host sent upstream, through `setHost`.
 */
export function transformHeaders(headers: Headers, ops: Operations, setHost: (host: string) => void): void {
  const host = applyHeaderPlan(headers, headerPlan(ops));
  if (host !== null) setHost(host);
}

/** Query string operations on Kong's query table (a copy is changed; null-prototype, so any name is data). */
export function transformArgs(
  args: Record<string, QueryValue>,
  ops: Operations,
  options: { present: boolean },
): { args: Record<string, QueryValue>; changed: boolean } {
  const out: Record<string, QueryValue> = Object.assign(Object.create(null), args);
  let changed = false;
  // Form bodies: remove, rename and replace only act on a body that is not empty (Kong's content_length > 0).
  if (options.present) {
    for (const name of ops.remove) {
      delete out[name];
      changed = true;
    }
    for (const { name, value } of ops.rename) {
      if (value === null || name === value || out[name] === undefined) continue;
      out[value] = out[name]!;
      delete out[name];
      changed = true;
    }
    for (const { name, value } of ops.replace)
      if (value !== null && out[name] !== undefined) {
        out[name] = value;
        changed = true;
      }
  }
  for (const { name, value } of ops.add)
    if (value !== null && out[name] === undefined) {
      out[name] = value;
      changed = true;
    }
  for (const { name, value } of ops.append)
    if (value !== null) {
      out[name] = appendValue(out[name], value) as string[];
      changed = true;
    }
  return { args: out, changed };
}

/** Lua truthiness of a decoded JSON value: absent and false are false (JSON null is cjson.null, a value). */
const truthy = (value: unknown) => value !== undefined && value !== false;

/**
 * JSON body operations (Kong's transform_json_body): returns the new body, or null when nothing changed or
 * the body is not a JSON object (it is then sent as received).
 */
export function transformJsonBody(body: string, ops: Operations): string | null {
  let parsed: unknown = {};
  if (body.length > 0) {
    try {
      parsed = JSON.parse(body);
    } catch {
      return null;
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  // Own properties only, on a null-prototype copy: a key like "__proto__" is data here.
  const params: Record<string, unknown> = Object.assign(Object.create(null), parsed);
  const present = body.length > 0;
  let changed = false;
  if (present) {
    for (const name of ops.remove) {
      delete params[name];
      changed = true;
    }
    for (const { name, value } of ops.rename) {
      if (value === null || name === value || !truthy(params[name])) continue;
      params[value] = params[name];
      delete params[name];
      changed = true;
    }
    for (const { name, value } of ops.replace)
      if (value !== null && truthy(params[name])) {
        params[name] = value;
        changed = true;
      }
  }
  for (const { name, value } of ops.add)
    if (value !== null && !truthy(params[name])) {
      params[name] = value;
      changed = true;
    }
  for (const { name, value } of ops.append)
    if (value !== null) {
      params[name] = appendValue(params[name], value);
      changed = true;
    }
  return changed ? JSON.stringify(params) : null;
}

/**
 * multipart/form-data operations (Kong's transform_multipart_body: rename → remove → replace → add; Kong
 * has no append here). Parts keep their file names and types; the form is re-encoded with a new boundary.
 */
export function transformMultipart(form: FormData, ops: Operations, present: boolean): boolean {
  let changed = false;
  if (present) {
    for (const { name, value } of ops.rename) {
      if (value === null || name === value || !form.has(name)) continue;
      for (const part of form.getAll(name)) form.append(value, part);
      form.delete(name);
      changed = true;
    }
    for (const name of ops.remove) {
      form.delete(name);
      changed = true;
    }
    for (const { name, value } of ops.replace)
      if (value !== null && form.has(name)) {
        form.set(name, value);
        changed = true;
      }
  }
  for (const { name, value } of ops.add)
    if (value !== null && !form.has(name)) {
      form.set(name, value);
      changed = true;
    }
  return changed;
}
