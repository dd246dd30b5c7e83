// The static registry of plugin hooks (no filesystem discovery: everything compiles into one binary).
import { acl } from "./acl/index.ts";
import { basicAuth } from "./basic-auth/index.ts";
import type { AnyPluginHooks } from "./contract.ts";
import { jwt } from "./jwt/index.ts";
import { keyAuth } from "./key-auth/index.ts";

export const PLUGIN_HOOKS: ReadonlyMap<string, AnyPluginHooks> = new Map(
  [jwt, keyAuth, basicAuth, acl].map((hooks) => [hooks.name, hooks as AnyPluginHooks]),
);
