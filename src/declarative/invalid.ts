// A declarative configuration that cannot be loaded, in Kong's two shapes: `fields` nested like the input
// (kong/db/errors.lua declarative_config) and, with flatten_errors, one entry per entity with its errors and
// field paths. The CLI prints the same problems one per line with their place in the file.
import type { ErrorFields } from "../errors.ts";

export type Location = readonly (string | number)[];

export type EntityProblem = {
  /** The file the entity came from (null: an API body). */
  source: string | null;
  location: Location;
  /** `name` as Kong's flattened errors give it; `label` how the CLI's lines name it. */
  entity?: { type: string; name?: string; label?: string; id?: string; tags?: unknown; raw: unknown };
  /** Field errors nested like the entity (Kong's `fields`), `@entity` for whole-entity checks. */
  fields: ErrorFields;
};

export type FlattenedError = {
  entity_type?: string;
  entity_name?: string;
  entity_id?: string;
  entity_tags?: unknown;
  entity?: unknown;
  errors?: { type: "entity" | "field"; field?: string; message: string }[];
};

/** Kong's code 14 `invalid declarative configuration`. */
export class InvalidConfig extends Error {
  readonly problems: readonly EntityProblem[];

  constructor(problems: readonly EntityProblem[]) {
    super(`declarative config is invalid: ${problems.flatMap(describeProblem).join("; ")}`);
    this.problems = problems;
  }

  /** Errors nested like the input: `{services: [null, {routes: [{paths: ["…"]}]}]}`. */
  get fields(): ErrorFields {
    return nest(this.problems);
  }

  /** The errors that belong to no entity (the document's own keys), nested like `fields`. */
  get documentFields(): ErrorFields {
    return nest(this.problems.filter((p) => !p.entity));
  }

  /** One entry per entity with errors (Kong's flattened_errors); the document's own errors are not entries. */
  get flattened(): FlattenedError[] {
    return this.problems.flatMap((problem): FlattenedError[] => {
      const entity = problem.entity;
      if (!entity) return [];
      const errors: FlattenedError["errors"] = fieldMessages(problem.fields).map(([field, message]) =>
        field === "@entity" ? { type: "entity", message } : { type: "field", field, message },
      );
      const entry: FlattenedError = { entity_type: entity.type };
      if (entity.name !== undefined) entry.entity_name = entity.name;
      if (entity.id !== undefined) entry.entity_id = entity.id;
      if (entity.tags !== undefined && entity.tags !== null) entry.entity_tags = entity.tags;
      return [{ ...entry, entity: entity.raw, errors }];
    });
  }

  /** One line per error: `kong.yaml: services[0].routes[1] (route r1): paths.0: should start with: /`. */
  lines(): string[] {
    return this.problems.flatMap(describeProblem);
  }
}

function nest(problems: readonly EntityProblem[]): ErrorFields {
  const root: ErrorFields = {};
  for (const problem of problems) {
    if (problem.location.length === 0) {
      Object.assign(root, problem.fields);
      continue;
    }
    const slot = slotAt(root, problem.location);
    mergeInto(slot, problem.fields);
  }
  return root;
}

function describeProblem(problem: EntityProblem): string[] {
  const where = [problem.source, formatLocation(problem.location)].filter((p) => p).join(": ");
  const what = problem.entity
    ? ` (${problem.entity.type}${problem.entity.label !== undefined ? ` ${problem.entity.label}` : ""})`
    : "";
  return fieldMessages(problem.fields).map(([field, message]) => {
    const label =
      field === "@entity" || (problem.location.length === 0 && field === "error") ? "" : `${field}: `;
    return `${where}${what}${where || what ? ": " : ""}${label}${message}`;
  });
}

export function formatLocation(location: Location): string {
  let out = "";
  for (const part of location) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

/** `[field path, message]` pairs: nested records and arrays as dotted paths (`config.minute`, `paths.0`). */
export function fieldMessages(fields: ErrorFields, prefix = ""): [string, string][] {
  const out: [string, string][] = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value === "string") out.push([path || "@entity", value]);
    else if (Array.isArray(value)) {
      if (path === "@entity" || path.endsWith(".@entity"))
        for (const item of value) out.push(["@entity", String(item)]);
      else
        value.forEach((item, i) => {
          if (item !== null) visit(item, path ? `${path}.${i}` : String(i));
        });
    } else if (value && typeof value === "object")
      for (const [key, item] of Object.entries(value)) visit(item, path ? `${path}.${key}` : key);
  };
  visit(fields, prefix);
  return out;
}

type Slot = ErrorFields | unknown[];

function slotAt(root: ErrorFields, location: Location): ErrorFields {
  let container: Slot = root;
  location.forEach((key, i) => {
    const last = i === location.length - 1;
    const nextIsIndex = typeof location[i + 1] === "number";
    const make = (): Slot => (last ? {} : nextIsIndex ? [] : {});
    if (Array.isArray(container)) {
      const index = Number(key);
      while (container.length <= index) container.push(null);
      container[index] ??= make();
      container = container[index] as Slot;
    } else {
      container[key] ??= make();
      container = container[key] as Slot;
    }
  });
  return container as ErrorFields;
}

function mergeInto(target: ErrorFields, fields: ErrorFields): void {
  for (const [key, value] of Object.entries(fields)) {
    if (key === "@entity" && Array.isArray(target[key]) && Array.isArray(value))
      (target[key] as unknown[]).push(...value);
    else target[key] ??= value;
  }
}
