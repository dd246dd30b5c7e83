// `status`: what this node is, where it listens, its database and configuration versions (REST: `GET /`
// and `GET /status`).
import type { AdminContext } from "../context.ts";
import { builder } from "./builder.ts";

type DatabaseStatus = { dialect: string; location: string; reachable: () => Promise<boolean> };

const Database = builder.objectRef<DatabaseStatus>("DatabaseStatus").implement({
  fields: (t) => ({
    dialect: t.exposeString("dialect", { description: "`sqlite` or `postgres`." }),
    location: t.exposeString("location"),
    reachable: t.boolean({ resolve: (db) => db.reachable() }),
  }),
});

const Listeners = builder.objectRef<{ proxy: string; admin: string }>("Listeners").implement({
  fields: (t) => ({
    proxy: t.exposeString("proxy", { description: "The proxy listener's URL." }),
    admin: t.exposeString("admin", { description: "The admin listener's URL (REST and GraphQL)." }),
  }),
});

type ListenerCounts = { proxy: number; admin: number };

const Counts = builder.objectRef<ListenerCounts>("ListenerCounts").implement({
  fields: (t) => ({ proxy: t.exposeInt("proxy"), admin: t.exposeInt("admin") }),
});

const Traffic = builder.objectRef<{ active: ListenerCounts; total: ListenerCounts }>("Traffic").implement({
  fields: (t) => ({
    active: t.field({ type: Counts, description: "Requests in flight.", resolve: (x) => x.active }),
    total: t.field({ type: Counts, description: "Requests handled since start.", resolve: (x) => x.total }),
  }),
});

const ConfigurationFaultObject = builder
  .objectRef<ReturnType<AdminContext["configurationFaults"]>[number]>("ConfigurationFault")
  .implement({
    description: "An entity the proxy could not build: a route left out, or a plugin failing closed (500).",
    fields: (t) => ({
      entity: t.exposeString("entity", { description: "Kong's DAO name (`routes`, `plugins`, …)." }),
      id: t.exposeID("id"),
      name: t.exposeString("name", { nullable: true }),
      message: t.exposeString("message"),
    }),
  });

const Status = builder.objectRef<AdminContext>("Status").implement({
  description: "This node.",
  fields: (t) => ({
    version: t.string({ description: "Portico's version.", resolve: (c) => c.node.version }),
    hostname: t.string({ resolve: (c) => c.node.hostname }),
    nodeId: t.id({ description: "Random per start.", resolve: (c) => c.node.node_id }),
    startedAt: t.int({ description: "Unix time, seconds.", resolve: (c) => c.node.started_at }),
    database: t.field({
      type: Database,
      resolve: (c) => ({ ...c.node.database, reachable: () => c.store.ping() }),
    }),
    listeners: t.field({
      type: Listeners,
      resolve: async (c) => {
        await c.node.bound;
        return c.node.listeners;
      },
    }),
    configVersion: t.int({
      description: "The stored configuration's version: bumped by every write.",
      resolve: (c) => c.store.configVersion(),
    }),
    proxyConfigVersion: t.int({
      description: "The version the proxy serves (briefly behind `configVersion` after a write).",
      resolve: (c) => c.proxyConfigVersion(),
    }),
    traffic: t.field({ type: Traffic, resolve: (c) => c.traffic() }),
    configurationFaults: t.field({
      type: [ConfigurationFaultObject],
      description:
        "What the proxy could not build from the configuration it serves; everything else is served.",
      resolve: (c) => [...c.configurationFaults()],
    }),
  }),
});

builder.queryField("status", (t) =>
  t.field({ type: Status, description: "This node's state.", resolve: (_root, _args, ctx) => ctx.admin }),
);
