// Consumers, plugins and credentials, at Kong's URLs: /consumers, /plugins (global and nested under
// services, routes and consumers), /plugins/enabled, /schemas/plugins/{name}, /consumers/{c}/key-auth …,
// and the top-level credential lists /key-auths, /basic-auths, /jwts, /acls.
import { z } from "zod";
import { PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import { consumerFields } from "../../schemas/consumers.ts";
import {
  aclFields,
  basicAuthCredentialFields,
  jwtSecretFields,
  keyAuthCredentialFields,
} from "../../schemas/credentials.ts";
import { pluginFields } from "../../schemas/plugins.ts";
import { routeFields } from "../../schemas/routes.ts";
import { serviceFields } from "../../schemas/services.ts";
import type { EntityName, EntityRepository, Store } from "../../store/repository.ts";
import { collection, entity, escaped, nestedEntity, parentScope } from "./crud.ts";
import { type FieldKinds, kindOf, kindsOf } from "./form.ts";
import { HttpError, json, methodNotAllowed, notFound, readBody } from "./http.ts";
import type { AdminRouter, MethodTable, Params } from "./router.ts";

const consumerKinds = kindsOf(consumerFields);
const basePluginKinds = kindsOf(pluginFields);
const configKinds = new Map([...PLUGIN_CATALOG].map(([name, d]) => [name, kindOf(d.config)]));

/** A form-encoded plugin's config is typed by that plugin's own schema (`config.allow[]=x` → array). */
function pluginKinds(pairs: readonly [string, string][]): FieldKinds {
  const name = pairs.find(([key]) => key === "name")?.[1];
  const config = name === undefined ? undefined : configKinds.get(name);
  return config ? { ...basePluginKinds, config } : basePluginKinds;
}

/** Credential entities by their Kong URL segments. */
const CREDENTIALS = [
  {
    entity: "keyauth_credentials",
    nested: "key-auth",
    topLevel: "key-auths",
    kinds: kindsOf(keyAuthCredentialFields),
  },
  {
    entity: "basicauth_credentials",
    nested: "basic-auth",
    topLevel: "basic-auths",
    kinds: kindsOf(basicAuthCredentialFields),
  },
  { entity: "jwt_secrets", nested: "jwt", topLevel: "jwts", kinds: kindsOf(jwtSecretFields) },
  { entity: "acls", nested: "acls", topLevel: "acls", kinds: kindsOf(aclFields) },
] as const satisfies readonly { entity: EntityName; nested: string; topLevel: string; kinds: unknown }[];

export function registerPluginEndpoints(router: AdminRouter, store: Store): void {
  const { services, routes, consumers, plugins } = store;

  router.add(
    "/consumers",
    collection(consumers, consumerKinds, () => "/consumers"),
  );
  router.add("/consumers/:consumer", entity(consumers, consumerKinds, "consumer"));

  // Static segments first: "/plugins/enabled" is not a plugin named "enabled".
  router.add("/plugins/enabled", {
    GET: () => json({ enabled_plugins: [...PLUGIN_CATALOG.keys()].sort() }),
  });
  router.add("/schemas/plugins/:name", {
    GET: (_req, params) => {
      const descriptor = PLUGIN_CATALOG.get(params.name!);
      if (!descriptor) throw new HttpError(404, `No plugin named '${params.name}'`);
      return json({
        name: descriptor.name,
        priority: descriptor.priority,
        version: descriptor.version,
        config: z.toJSONSchema(descriptor.config, { io: "input", unrepresentable: "any" }),
      });
    },
  });
  router.add(
    "/plugins",
    collection(plugins, pluginKinds, () => "/plugins"),
  );
  router.add("/plugins/:plugin", entity(plugins, pluginKinds, "plugin"));

  const parents = [
    { segment: "services", param: "service", key: "service", repo: services },
    { segment: "routes", param: "route", key: "route", repo: routes },
    { segment: "consumers", param: "consumer", key: "consumer", repo: consumers },
  ] as const;
  for (const parent of parents) {
    const scope = parentScope(parent.repo as EntityRepository<{ id: string }>, parent.param, parent.key);
    const base = (p: Params) => `/${parent.segment}/${escaped(p[parent.param]!)}/plugins`;
    router.add(`/${parent.segment}/:${parent.param}/plugins`, collection(plugins, pluginKinds, base, scope));
    router.add(
      `/${parent.segment}/:${parent.param}/plugins/:plugin`,
      nestedEntity(plugins, pluginKinds, "plugin", scope),
    );
    // The entity a plugin is scoped to: /plugins/{p}/service (seed 004), /route, /consumer.
    router.add(
      `/plugins/:plugin/${parent.key}`,
      scopedParent(
        plugins,
        parent.repo as EntityRepository<{ id: string }>,
        parent.key,
        kindsOfParent(parent.key),
      ),
    );
  }

  for (const credential of CREDENTIALS) {
    const repo = store.entity(credential.entity) as EntityRepository<{
      id: string;
      consumer: { id: string };
    }>;
    const consumerScope = parentScope(consumers, "consumer", "consumer");
    router.add(
      `/consumers/:consumer/${credential.nested}`,
      collection(
        repo,
        credential.kinds,
        (p) => `/consumers/${escaped(p.consumer!)}/${credential.nested}`,
        consumerScope,
      ),
    );
    router.add(
      `/consumers/:consumer/${credential.nested}/:credential`,
      nestedEntity(repo, credential.kinds, "credential", consumerScope),
    );
    router.add(`/${credential.topLevel}`, {
      GET: collection(repo, credential.kinds, () => `/${credential.topLevel}`).GET!,
    });
    router.add(`/${credential.topLevel}/:credential`, entity(repo, credential.kinds, "credential"));
    router.add(`/${credential.topLevel}/:credential/consumer`, {
      GET: async (_req, params) => {
        const found = await repo.get(params.credential!);
        if (!found) throw notFound();
        const owner = await consumers.get(found.consumer.id);
        if (!owner) throw notFound();
        return json(owner);
      },
    });
  }
}

const PARENT_KINDS = {
  service: kindsOf(serviceFields),
  route: kindsOf(routeFields),
  consumer: consumerKinds,
};

function kindsOfParent(key: "service" | "route" | "consumer") {
  return PARENT_KINDS[key];
}

/**
 * GET | PATCH | PUT the entity a plugin is scoped to (Kong: /plugins/{id}/service). DELETE is refused
 * (405) — delete the plugin or the parent itself. 404 when the plugin is missing or not scoped so.
 */
function scopedParent<P extends { id: string }>(
  plugins: EntityRepository<{ id: string } & Record<string, unknown>>,
  parents: EntityRepository<P>,
  key: "service" | "route" | "consumer",
  kinds: ReturnType<typeof kindsOf>,
): MethodTable {
  const parentId = async (params: Params) => {
    const plugin = await plugins.get(params.plugin!);
    const ref = plugin?.[key] as { id: string } | null | undefined;
    if (!ref) throw notFound();
    return ref.id;
  };
  return {
    GET: async (_req, params) => {
      const parent = await parents.get(await parentId(params));
      if (!parent) throw notFound();
      return json(parent);
    },
    PATCH: async (req, params) => {
      const id = await parentId(params);
      return json(await parents.update(id, await readBody(req, kinds)));
    },
    PUT: async (req, params) => {
      const id = await parentId(params);
      return json(await parents.upsert(id, await readBody(req, kinds)));
    },
    DELETE: async (_req, params) => {
      await parentId(params);
      throw methodNotAllowed();
    },
  };
}
