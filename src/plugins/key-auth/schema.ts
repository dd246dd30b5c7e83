// key-auth config (Kong's bundled plugin, priority 1250).
import { z } from "zod";
import { lazy } from "../../schemas/lazy.ts";
import { anonymous, configBoolean, configString, headerName } from "../config-fields.ts";

export const keyAuthConfig = lazy(() =>
  z.strictObject({
    key_names: z
      .array(headerName(), { error: "expected an array" })
      .min(1, "length must be at least 1")
      .default(["apikey"]),
    hide_credentials: configBoolean(false),
    anonymous: anonymous(),
    key_in_header: configBoolean(true),
    key_in_query: configBoolean(true),
    key_in_body: configBoolean(false),
    run_on_preflight: configBoolean(true),
    realm: configString().nullable().default(null),
  }),
);

export type KeyAuthConfig = z.output<ReturnType<typeof keyAuthConfig>>;
