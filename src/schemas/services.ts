// Service: one upstream API (kong/db/schema/entities/services.lua).
import { z } from "zod";
import {
  boolean,
  defaulted,
  host,
  integer,
  name,
  nullable,
  path,
  protocol,
  requiredWithDefault,
  tags,
  text,
  timestamp,
  uuid,
} from "./common.ts";
import { lazy } from "./lazy.ts";
import { expandUrlShorthand } from "./url-shorthand.ts";

const timeout = lazy(() => defaulted(integer(1, 2147483646), 60000).meta({ description: "Milliseconds." }));

/** Protocols that can carry TLS settings. */
const TLS_PROTOCOLS = new Set(["https"]);

export const serviceFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  name: nullable(name()),
  retries: defaulted(integer(0, 32767), 5),
  protocol: requiredWithDefault(protocol(), "http"),
  host: host(),
  port: requiredWithDefault(integer(0, 65535), 80),
  path: nullable(path()),
  connect_timeout: timeout(),
  write_timeout: timeout(),
  read_timeout: timeout(),
  tags: tags(),
  client_certificate: nullable(
    z
      .strictObject({ id: uuid() }, { error: "expected a record" })
      .meta({ graphql: "CertificateReference", description: "A certificate, by id." }),
  ),
  tls_verify: nullable(boolean()),
  tls_verify_depth: nullable(integer(0, 64)),
  ca_certificates: nullable(z.array(uuid(), { error: "expected an array" })),
  enabled: requiredWithDefault(boolean(), true),
  /** Write-only shorthand; only survives expansion when it is invalid, so it can be reported. */
  url: text().optional().meta({
    description:
      "Shorthand for protocol, host, port and path (`https://example.com:8443/v1`); overrides them.",
  }),
}));

export const serviceSchema = lazy(() =>
  z.preprocess(
    (input, ctx) => {
      if (!input || typeof input !== "object" || Array.isArray(input)) return input;
      const body = input as Record<string, unknown>;
      // Kong validates a shorthand before expanding it and, when it is invalid, reports only the shorthand
      // (`{url: ""}` → just `url: length must be at least 1`, not also `host: required field missing`).
      if (body.url !== undefined && body.url !== null) {
        const url = serviceFields().url.safeParse(body.url);
        if (!url.success) {
          for (const issue of url.error.issues)
            ctx.issues.push({ code: "custom", path: ["url"], message: issue.message, input: body.url });
          return z.NEVER;
        }
      }
      return expandUrlShorthand(body);
    },
    z
      .strictObject(serviceFields(), { error: "expected a record" })
      .superRefine((service, ctx) => {
        if (TLS_PROTOCOLS.has(service.protocol)) return;
        for (const field of [
          "client_certificate",
          "tls_verify",
          "tls_verify_depth",
          "ca_certificates",
        ] as const) {
          if (service[field] !== null) {
            ctx.addIssue({ code: "custom", path: [field], message: "value must be null" });
            ctx.addIssue({
              code: "custom",
              path: ["@entity"],
              message: "failed conditional validation given value of field 'protocol'",
            });
          }
        }
      })
      .transform(({ url: _url, ...service }) => service),
  ),
);

/** A validated service as stored and rendered (id and timestamps filled in by the store). */
export type Service = Omit<z.output<ReturnType<typeof serviceSchema>>, "id" | "created_at" | "updated_at"> & {
  id: string;
  created_at: number;
  updated_at: number;
};
