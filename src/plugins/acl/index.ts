// acl: allow or deny consumers by the groups they belong to. Runs after authentication (priority 950).
import { definePlugin } from "../contract.ts";
import { type AclConfig, aclConfig } from "./schema.ts";

const FORBIDDEN = "You cannot consume this service";

export const acl = definePlugin<AclConfig>({
  name: "acl",
  priority: 950,
  version: "1.0.0",
  config: aclConfig,
  // Authentication identifies the consumer, so it cannot be scoped to one (Kong's no_consumer).
  scoping: { consumer: false },
  upstreamHeaderEdits: () => ["x-consumer-groups"],
  access(ctx, config) {
    const consumer = ctx.consumer;
    // No authenticated consumer: nothing to check the groups of.
    if (!consumer) return ctx.respond(401, "Unauthorized");
    const groups = ctx.credentials.groups(consumer.id);
    if (config.allow !== null && config.allow.length > 0) {
      if (!groups.some((g) => config.allow!.includes(g))) return ctx.respond(403, FORBIDDEN);
    } else if (config.deny !== null && groups.some((g) => config.deny!.includes(g))) {
      return ctx.respond(403, FORBIDDEN);
    }
    const header = config.hide_groups_header ? undefined : ctx.credentials.groupsHeader(consumer.id);
    if (header !== undefined) ctx.upstreamHeaders.set("x-consumer-groups", header);
    else ctx.upstreamHeaders.delete("x-consumer-groups");
    return undefined;
  },
});
