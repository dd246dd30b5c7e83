// `Service.url`: where a service's requests go, as one URL. REST takes `url` only as a write shorthand; GraphQL
// also reads it back (the seed library's clients think of services as URLs).

import type { Service } from "../../schemas/services.ts";
import { serviceUrl } from "../service-health.ts";
import { builder } from "./builder.ts";
import { entityObject } from "./entities.ts";

builder.objectField(entityObject("services"), "url", (t) =>
  t.string({
    description: "Where requests go: protocol, host, port and path as one URL (read-only).",
    resolve: (service) => serviceUrl(service as unknown as Service),
  }),
);
