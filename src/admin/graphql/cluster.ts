// `nodes`: every node on this configuration's database and whether it serves the current version (REST:
// `GET /clustering/nodes`).
import { type NodeView, nodePage } from "../cluster-view.ts";
import { checkSize, DEFAULT_PAGE_SIZE } from "../paging.ts";
import { builder } from "./builder.ts";

const NodeObject = builder.objectRef<NodeView>("Node").implement({
  description: "A Portico node sharing this configuration, as it last reported itself.",
  fields: (t) => ({
    id: t.exposeID("id"),
    hostname: t.exposeString("hostname"),
    version: t.exposeString("version", { description: "Portico's version." }),
    configVersion: t.exposeInt("config_version", {
      description: "The configuration version its proxy serves.",
    }),
    inSync: t.exposeBoolean("in_sync", { description: "It serves the version the database holds now." }),
    stale: t.exposeBoolean("stale", { description: "It has not reported for 15 s (stopped, or cut off)." }),
    workers: t.exposeInt("workers"),
    startedAt: t.exposeInt("started_at", { description: "Unix time, seconds." }),
    lastSeen: t.exposeInt("last_seen", { description: "Unix time, seconds." }),
  }),
});

const NodePage = builder.objectRef<{ data: NodeView[]; offset: string | null }>("NodePage").implement({
  fields: (t) => ({
    data: t.field({ type: [NodeObject], resolve: (page) => page.data }),
    offset: t.string({ nullable: true, resolve: (page) => page.offset }),
  }),
});

builder.queryField("nodes", (t) =>
  t.field({
    type: NodePage,
    description: "The nodes sharing this configuration (REST: `GET /clustering/nodes`).",
    args: {
      size: t.arg.int({ defaultValue: DEFAULT_PAGE_SIZE }),
      offset: t.arg.string(),
    },
    resolve: (_root, { size, offset }, ctx) =>
      nodePage(ctx.admin.store, checkSize(size ?? DEFAULT_PAGE_SIZE), offset ?? undefined),
  }),
);
