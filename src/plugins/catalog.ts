// What the control plane knows of each bundled plugin: its config schema, priority and where it may be
// applied. Static (the binary has no plugin discovery); runtime hooks live in registry.ts.
import type { z } from "zod";
import { aclConfig } from "./acl/schema.ts";
import { basicAuthConfig } from "./basic-auth/schema.ts";
import { jwtConfig } from "./jwt/schema.ts";
import { keyAuthConfig } from "./key-auth/schema.ts";

export type PluginDescriptor = {
  name: string;
  /** Higher runs first (Kong's bundled priorities). */
  priority: number;
  version: string;
  config: z.ZodType;
  /** Authentication plugins identify the consumer, so they cannot be scoped to one. */
  noConsumer: boolean;
};

export const PLUGIN_CATALOG: ReadonlyMap<string, PluginDescriptor> = new Map(
  (
    [
      { name: "jwt", priority: 1450, version: "1.0.0", config: jwtConfig, noConsumer: true },
      { name: "key-auth", priority: 1250, version: "1.0.0", config: keyAuthConfig, noConsumer: true },
      { name: "basic-auth", priority: 1100, version: "1.0.0", config: basicAuthConfig, noConsumer: true },
      { name: "acl", priority: 950, version: "1.0.0", config: aclConfig, noConsumer: true },
    ] satisfies PluginDescriptor[]
  ).map((p) => [p.name, p]),
);
