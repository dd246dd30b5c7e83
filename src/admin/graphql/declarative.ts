// `applyConfig(config, dryRun, selectTags)`: the declarative apply of REST's POST /config/sync, the plan
// returned as typed data. An invalid file is one error with Kong's code 14, its nested `fields` and the
// flattened errors in `extensions`.
import { GraphQLError } from "graphql";
import { InvalidConfig, loadText, type PlannedChange, syncDocuments } from "../../declarative/index.ts";
import { builder } from "./builder.ts";
import { ConfigAction } from "./config-events.ts";
import { JsonScalar } from "./json.ts";

type FieldChange = PlannedChange["fields"][number];
type PlanResult = {
  changes: PlannedChange[];
  summary: { created: number; updated: number; deleted: number };
  applied: boolean;
};

const ConfigFieldChange = builder.objectRef<FieldChange>("ConfigFieldChange").implement({
  description: "One field an update changes (keys and passwords as `<redacted>`).",
  fields: (t) => ({
    field: t.exposeString("field", { description: "The wire name (`connect_timeout`)." }),
    from: t.field({ type: JsonScalar, nullable: true, resolve: (c) => c.from }),
    to: t.field({ type: JsonScalar, nullable: true, resolve: (c) => c.to }),
  }),
});

const ConfigPlannedChange = builder.objectRef<PlannedChange>("ConfigPlannedChange").implement({
  description: "One entity the configuration creates, updates or deletes.",
  fields: (t) => ({
    action: t.field({ type: ConfigAction, resolve: (c) => c.action }),
    entity: t.exposeString("entity", { description: "Kong's singular entity type (`service`)." }),
    id: t.exposeID("id"),
    name: t.exposeString("name", { description: "Its endpoint key, or its id." }),
    fields: t.field({ type: [ConfigFieldChange], resolve: (c) => c.fields }),
  }),
});

const ConfigPlan = builder.objectRef<PlanResult>("ConfigPlan").implement({
  description: "What a declarative configuration changes (decK's diff), and whether it was applied.",
  fields: (t) => ({
    changes: t.field({ type: [ConfigPlannedChange], resolve: (p) => p.changes }),
    created: t.int({ resolve: (p) => p.summary.created }),
    updated: t.int({ resolve: (p) => p.summary.updated }),
    deleted: t.int({ resolve: (p) => p.summary.deleted }),
    applied: t.boolean({
      description: "False for a dry run or when there was nothing to change.",
      resolve: (p) => p.applied,
    }),
  }),
});

builder.mutationField("applyConfig", (t) =>
  t.field({
    type: ConfigPlan,
    description:
      "Make the configuration equal to a Kong declarative file (YAML or JSON text) within its select tags, " +
      "in one transaction; with `dryRun`, only plan (REST: `POST /config/sync`).",
    args: {
      config: t.arg.string({ required: true }),
      dryRun: t.arg.boolean({ defaultValue: false }),
      selectTags: t.arg.stringList({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      try {
        const document = loadText(args.config, null);
        const plan = await syncDocuments(ctx.admin.declarative.store, [document], {
          selectTags: args.selectTags ?? undefined,
          dryRun: args.dryRun ?? false,
        });
        ctx.loaders.clear();
        return { ...plan, applied: !args.dryRun && plan.changes.length > 0 };
      } catch (error) {
        if (!(error instanceof InvalidConfig)) throw error;
        throw new GraphQLError(error.message, {
          extensions: {
            code: 14,
            name: "invalid declarative configuration",
            fields: error.fields,
            flattenedErrors: error.flattened,
          },
        });
      }
    },
  }),
);
