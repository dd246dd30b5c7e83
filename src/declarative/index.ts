// Declarative configuration over a store: read what is stored, plan the change files describe, apply it in
// one transaction (one version move, so the proxy rebuilds once and never serves half of it), export.
import type { Store } from "../store/contract.ts";
import { ENTITY_NAMES } from "../store/entities/index.ts";
import type { Row } from "../store/entity-def.ts";
import { ConfigurationMoved } from "../store/store.ts";
import { type CurrentState, desiredState } from "./desired.ts";
import { commonSelectTags, type ParsedDocument } from "./document.ts";
import { type ExportOptions, exportDocument } from "./export.ts";
import { canonicalJson } from "./model.ts";
import { makePlan, type Plan } from "./plan.ts";

export { loadText, type ParsedDocument, parseText, readDocument } from "./document.ts";
export { InvalidConfig } from "./invalid.ts";
export { type Plan, type PlannedChange, renderPlan } from "./plan.ts";

export type SyncOptions = {
  /** Overrides the files' `_info.select_tags` (the CLI's --select-tag). */
  selectTags?: readonly string[] | undefined;
  dryRun?: boolean;
  /** Kong's POST /config: the documents are the whole configuration, whatever their select tags. */
  wholeConfiguration?: boolean;
};

/** Attempts when other writes keep landing between a plan and its transaction. */
const MAX_ATTEMPTS = 5;

export async function readCurrent(store: Store): Promise<CurrentState> {
  const lists = await Promise.all(ENTITY_NAMES.map((name) => store.entity(name).all() as Promise<Row[]>));
  return new Map(ENTITY_NAMES.map((name, i) => [name, lists[i]!]));
}

/** Checks files without a store: schemas, references within the files, duplicates. */
export async function validateDocuments(documents: readonly ParsedDocument[]): Promise<void> {
  await desiredState(documents, new Map(), commonSelectTags(documents));
}

/** What applying the files would change; with `dryRun` false, applies it in one transaction. */
export async function syncDocuments(
  store: Store,
  documents: readonly ParsedDocument[],
  options: SyncOptions = {},
): Promise<Plan> {
  const fileTags = commonSelectTags(documents);
  const selectTags = options.selectTags?.length ? [...options.selectTags] : fileTags;
  const scopeTags = options.wholeConfiguration ? [] : selectTags;
  // Planned against one version; if another write lands before the transaction, plan again.
  for (let attempt = 1; ; attempt++) {
    const version = await store.configVersion();
    const current = await readCurrent(store);
    const desired = await desiredState(documents, current, selectTags, scopeTags);
    const plan = await makePlan(desired, current, scopeTags);
    if (options.dryRun || plan.operations.length === 0) return plan;
    try {
      await store.writeVerified(version, plan.operations);
      return plan;
    } catch (error) {
      if (!(error instanceof ConfigurationMoved) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

export async function exportConfig(
  store: Store,
  options: ExportOptions = {},
): Promise<Record<string, unknown>> {
  return exportDocument(await readCurrent(store), options);
}

export { EMPTY_HASH } from "./empty-hash.ts";

/** Kong's hash of a configuration: equal documents, however written, hash alike. */
export function configurationHash(body: Record<string, unknown>): string {
  return new Bun.CryptoHasher("md5").update(canonicalJson(body)).digest("hex");
}

export function formatDocument(document: Record<string, unknown>, format: "yaml" | "json"): string {
  return format === "json"
    ? `${JSON.stringify(document, null, 2)}\n`
    : `${Bun.YAML.stringify(document, null, 2)}\n`;
}
