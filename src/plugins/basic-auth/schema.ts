// basic-auth config (Kong's bundled plugin, priority 1100).
import { z } from "zod";
import { lazy } from "../../schemas/lazy.ts";
import { anonymous, configBoolean, configString } from "../config-fields.ts";

export const basicAuthConfig = lazy(() =>
  z.strictObject({
    anonymous: anonymous(),
    hide_credentials: configBoolean(false),
    realm: configString().default("service"),
  }),
);

export type BasicAuthConfig = z.output<ReturnType<typeof basicAuthConfig>>;
