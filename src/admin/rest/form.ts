// Kong's form-body decoding (`a.b`, `a[]`, `a[1]`, repeated keys) and type inference: form values are
// strings, so each is converted by the kind of the schema field it lands in ("80" → 80 for an integer
// field, "" → null). The kinds are read off the zod field shapes (through the one zod walker), so the schema
// stays the source of truth.
import type { z } from "zod";
import { walkValue, type ZodNode } from "../zod-walk.ts";

export type FieldKind =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "boolean" }
  | { kind: "array"; item: FieldKind }
  | { kind: "map"; value: FieldKind }
  | { kind: "record"; fields: FieldKinds };
export type FieldKinds = Record<string, FieldKind>;

function kindOfNode(node: ZodNode): FieldKind {
  switch (node.type) {
    case "number":
      return { kind: "number" };
    case "boolean":
      return { kind: "boolean" };
    case "array":
      return { kind: "array", item: kindOfNode(node.item) };
    case "map":
      return { kind: "map", value: kindOfNode(node.value) };
    case "record": {
      const fields: FieldKinds = {};
      for (const [name, field] of Object.entries(node.fields)) fields[name] = kindOfNode(field.node);
      return { kind: "record", fields };
    }
    default:
      return { kind: "string" };
  }
}

export function kindOf(schema: z.ZodType): FieldKind {
  return kindOfNode(walkValue(schema));
}

export function kindsOf(shape: Record<string, z.ZodType>): FieldKinds {
  const kinds: FieldKinds = {};
  for (const [name, schema] of Object.entries(shape)) kinds[name] = kindOf(schema);
  return kinds;
}

type Tree = { [key: string]: Tree | string[] };

// Form keys are client input: the tree and the decoded records have no prototype, so `__proto__.x=1`
// or `constructor.prototype.x=1` are plain (unknown) fields and never reach Object.prototype.
const record = <T>(): Record<string, T> => Object.create(null);

/** `a.b[]` → ["a", "b", ""]; `a[2]` → ["a", "2"]. */
function splitKey(key: string): string[] {
  const parts: string[] = [];
  for (const dotted of key.split(".")) {
    const match = /^([^[\]]*)((?:\[[^[\]]*\])*)$/.exec(dotted);
    if (!match) {
      parts.push(dotted);
      continue;
    }
    if (match[1] !== "") parts.push(match[1]!);
    for (const bracket of match[2]!.matchAll(/\[([^[\]]*)\]/g)) parts.push(bracket[1]!);
  }
  return parts;
}

export function decodeForm(pairs: Iterable<[string, string]>, kinds: FieldKinds): Record<string, unknown> {
  const tree: Tree = record();
  for (const [key, value] of pairs) {
    const parts = splitKey(key);
    if (parts.length === 0) continue;
    let node = tree;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      const next = node[part];
      if (next === undefined || Array.isArray(next)) {
        const branch: Tree = record();
        if (Array.isArray(next)) branch[""] = next;
        node[part] = branch;
      }
      node = node[part] as Tree;
    }
    const leaf = parts[parts.length - 1]!;
    const existing = node[leaf];
    if (Array.isArray(existing)) existing.push(value);
    else if (existing === undefined) node[leaf] = [value];
    else (existing as Tree)[""] = [...(((existing as Tree)[""] as string[]) ?? []), value];
  }
  return convertRecord(tree, kinds);
}

function convertRecord(tree: Tree, kinds: FieldKinds | undefined): Record<string, unknown> {
  const out = record<unknown>();
  for (const [key, node] of Object.entries(tree))
    out[key] = convert(node, kinds && Object.hasOwn(kinds, key) ? kinds[key] : undefined);
  return out;
}

function convert(node: Tree | string[], kind: FieldKind | undefined): unknown {
  if (kind?.kind === "array") {
    if (Array.isArray(node))
      return node.length === 1 && node[0] === "" ? null : node.map((v) => scalar(v, kind.item));
    // `a[1]=x&a[2]=y` (1-based like Kong) or `a[]=x`: order by index.
    const entries = Object.entries(node)
      .filter(([k]) => k === "" || /^\d+$/.test(k))
      .sort(([a], [b]) => (a === "" ? 0 : Number(a)) - (b === "" ? 0 : Number(b)));
    const items = entries.flatMap(([, v]): (string | Tree)[] => (Array.isArray(v) ? v : [v]));
    return items.map((v) => (typeof v === "string" ? scalar(v, kind.item) : convert(v, kind.item)));
  }
  if (Array.isArray(node)) {
    if (node.length === 1) return scalar(node[0]!, kind);
    return node.map((v) => scalar(v, kind));
  }
  if (kind?.kind === "map") {
    const out = record<unknown>();
    for (const [k, v] of Object.entries(node)) {
      const value = convert(v, kind.value);
      out[k] = kind.value.kind === "array" && !Array.isArray(value) && value !== null ? [value] : value;
    }
    return out;
  }
  return convertRecord(node, kind?.kind === "record" ? kind.fields : undefined);
}

function scalar(value: string, kind: FieldKind | undefined): unknown {
  if (value === "") return null;
  switch (kind?.kind) {
    case "number":
      return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    case "boolean":
      return value === "true" ? true : value === "false" ? false : value;
    case "array":
      return [scalar(value, kind.item)];
    default:
      return value;
  }
}
