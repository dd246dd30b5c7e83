// `configChanged`: one event per committed write (GraphQL, REST or the seed URLs alike), straight from
// the store's change feed.
import type { ChangeEvent } from "../../store/contract.ts";
import { ENTITY_NAMES } from "../../store/entities/index.ts";
import { builder } from "./builder.ts";
import { liveFeed } from "./live.ts";

const ConfigEntity = builder.enumType("ConfigEntity", {
  description: "Which kind of entity changed (Kong's DAO name, as in REST's collection URLs).",
  values: ENTITY_NAMES,
});

export const ConfigAction = builder.enumType("ConfigAction", {
  values: ["create", "update", "delete"] as const,
});

const ConfigEvent = builder.objectRef<ChangeEvent>("ConfigEvent").implement({
  description: "A committed change to the configuration.",
  fields: (t) => ({
    entity: t.field({ type: ConfigEntity, resolve: (event) => event.entity }),
    action: t.field({ type: ConfigAction, resolve: (event) => event.action }),
    id: t.exposeID("id", { description: "The id of the entity that changed." }),
    version: t.exposeInt("version", { description: "The configuration version this change produced." }),
  }),
});

builder.subscriptionField("configChanged", (t) =>
  t.field({
    type: ConfigEvent,
    description: "Every committed write, in commit order.",
    args: { entities: t.arg({ type: [ConfigEntity], description: "Only these kinds (default: all)." }) },
    subscribe: (_root, { entities }, ctx) => {
      const wanted = entities && entities.length > 0 ? new Set<string>(entities) : null;
      return liveFeed<ChangeEvent>(ctx.closing, (push) =>
        ctx.admin.store.subscribe((event) => {
          if (!wanted || wanted.has(event.entity)) push({ ...event });
        }),
      );
    },
    resolve: (event) => event,
  }),
);
