// Errors are values with a Kong code (kong/db/errors.lua). Every edge (REST, GraphQL, proxy) renders the
// same GatewayError its own way; nothing else decides status codes.

export type ErrorFields = { [field: string]: unknown };

type KongErrorKind = {
  code: number;
  name: string;
  status: number;
};

export const KONG_ERRORS = {
  INVALID_PRIMARY_KEY: { code: 1, name: "invalid primary key", status: 400 },
  SCHEMA_VIOLATION: { code: 2, name: "schema violation", status: 400 },
  PRIMARY_KEY_VIOLATION: { code: 3, name: "primary key violation", status: 400 },
  FOREIGN_KEY_VIOLATION: { code: 4, name: "foreign key violation", status: 400 },
  UNIQUE_VIOLATION: { code: 5, name: "unique constraint violation", status: 409 },
  NOT_FOUND: { code: 6, name: "not found", status: 404 },
  INVALID_OFFSET: { code: 7, name: "invalid offset", status: 400 },
  INVALID_SIZE: { code: 9, name: "invalid size", status: 400 },
  INVALID_UNIQUE: { code: 10, name: "invalid unique", status: 400 },
  INVALID_OPTIONS: { code: 11, name: "invalid options", status: 400 },
  OPERATION_UNSUPPORTED: { code: 12, name: "operation unsupported", status: 405 },
  FOREIGN_KEYS_UNRESOLVED: { code: 13, name: "foreign keys unresolved", status: 400 },
  REFERENCED_BY_OTHERS: { code: 19, name: "referenced by others", status: 400 },
  /** Kong answers a database failure with a masked 500; a node that keeps proxying says 503 and why. */
  DATABASE_UNAVAILABLE: { code: 8, name: "database error", status: 503 },
} as const satisfies Record<string, KongErrorKind>;

export type KongErrorName = keyof typeof KONG_ERRORS;

export class GatewayError extends Error {
  readonly kind: KongErrorName;
  readonly fields: ErrorFields | undefined;
  /** Kong names some errors after the field, e.g. "invalid unique name". */
  readonly displayName: string;

  constructor(kind: KongErrorName, message: string, fields?: ErrorFields, displayName?: string) {
    super(message);
    this.kind = kind;
    this.fields = fields;
    this.displayName = displayName ?? KONG_ERRORS[kind].name;
  }

  get code(): number {
    return KONG_ERRORS[this.kind].code;
  }

  get status(): number {
    return KONG_ERRORS[this.kind].status;
  }

  /** The Kong error body: `{code, name, message, fields?}`. */
  toJSON(): { code: number; name: string; message: string; fields?: ErrorFields } {
    const body: { code: number; name: string; message: string; fields?: ErrorFields } = {
      code: this.code,
      name: this.displayName,
      message: this.message,
    };
    if (this.fields !== undefined) body.fields = this.fields;
    return body;
  }
}

/** Builds Kong's schema-violation message: `schema violation (a: x)` or `2 schema violations (a: x; b: y)`. */
export function schemaViolation(fields: ErrorFields): GatewayError {
  const parts = flattenFieldErrors(fields);
  const message =
    parts.length === 1
      ? `schema violation (${parts[0]})`
      : `${parts.length} schema violations (${parts.join("; ")})`;
  return new GatewayError("SCHEMA_VIOLATION", message, fields);
}

function flattenFieldErrors(fields: ErrorFields, prefix = ""): string[] {
  const out: string[] = [];
  for (const key of Object.keys(fields).sort()) {
    const value = fields[key];
    const label = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.push(`${label}: ${value}`);
    else if (Array.isArray(value)) {
      if (key === "@entity") {
        for (const v of value) out.push(String(v));
        continue;
      }
      value.forEach((v, i) => {
        if (typeof v === "string") out.push(`${label}.${i + 1}: ${v}`);
        else if (v && typeof v === "object")
          out.push(...flattenFieldErrors(v as ErrorFields, `${label}.${i + 1}`));
      });
    } else if (value && typeof value === "object")
      out.push(...flattenFieldErrors(value as ErrorFields, label));
  }
  return out;
}

/** True for errors raised on purpose; anything else is a bug and is rendered as a masked 500. */
export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
