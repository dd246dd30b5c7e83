// `portico config export | diff | apply | validate`: declarative configuration from the command line, against
// the configured database (no gateway needs to run) or a running gateway's admin API (--admin-url). Files are
// read and their ${{ env "PORTICO_X" }} substituted here, so secrets come from this shell's environment.
// Exit codes: 0 done / in sync, 2 diff found drift (and usage errors, as everywhere), 1 the files or the
// target refused.
import { readFileSync, writeFileSync } from "node:fs";
import {
  exportConfig,
  formatDocument,
  InvalidConfig,
  loadText,
  type ParsedDocument,
  type Plan,
  renderPlan,
  syncDocuments,
  validateDocuments,
} from "../declarative/index.ts";
import { GatewayError } from "../errors.ts";
import { openStore } from "../store/open.ts";
import type { BootConfig, ConfigCommand } from "./config.ts";

const EXIT_DRIFT = 2;
const EXIT_FAILED = 1;

/** A failure already explained to the user (one or more lines on stderr). */
class CommandFailed extends Error {}

export async function runConfigCommand(config: BootConfig): Promise<number> {
  const command = config.configCommand!;
  try {
    switch (command.action) {
      case "validate": {
        await validateDocuments(readFiles(command, config));
        console.log("parse successful");
        return 0;
      }
      case "export":
        return await runExport(command, config);
      case "diff":
      case "apply":
        return await runSync(command, config);
    }
  } catch (error) {
    if (error instanceof InvalidConfig) {
      console.error("portico: invalid declarative configuration:");
      for (const line of error.lines()) console.error(`  ${line}`);
      return EXIT_FAILED;
    }
    if (error instanceof GatewayError) {
      console.error(`portico: ${failedVerb(command)}: ${error.message}`);
      return EXIT_FAILED;
    }
    if (error instanceof CommandFailed) {
      console.error(`portico: ${error.message}`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

function failedVerb(command: ConfigCommand): string {
  return command.action === "apply" && !command.dryRun
    ? "apply failed, nothing was changed"
    : `${command.action} failed`;
}

function readFiles(command: ConfigCommand, config: BootConfig): ParsedDocument[] {
  return command.files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new CommandFailed(
        `cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    return loadText(text, file, config.substitutions);
  });
}

async function runExport(command: ConfigCommand, config: BootConfig): Promise<number> {
  let text: string;
  if (command.adminUrl) {
    const query = new URLSearchParams({ format: command.format });
    if (command.selectTags.length > 0) query.set("select_tags", command.selectTags.join(","));
    const body = (await callAdmin(command.adminUrl, `/config?${query}`, { method: "GET" })) as {
      config: string;
    };
    text = body.config;
  } else {
    const store = await openStore(config.database);
    try {
      text = formatDocument(await exportConfig(store, { selectTags: command.selectTags }), command.format);
    } finally {
      await store.close();
    }
  }
  if (command.output === null) process.stdout.write(text);
  else {
    writeFileSync(command.output, text);
    console.error(`portico: configuration written to ${command.output}`);
  }
  return 0;
}

async function runSync(command: ConfigCommand, config: BootConfig): Promise<number> {
  const documents = readFiles(command, config);
  const dryRun = command.action === "diff" || command.dryRun;
  let plan: Pick<Plan, "changes" | "summary">;
  if (command.adminUrl) {
    const body = (await callAdmin(command.adminUrl, `/config/sync?dry_run=${dryRun}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        documents: documents.map((d) => ({ source: d.source, config: d.body })),
        select_tags: command.selectTags,
      }),
    })) as { plan: Pick<Plan, "changes" | "summary"> };
    plan = body.plan;
  } else {
    const store = await openStore(config.database);
    try {
      plan = await syncDocuments(store, documents, { selectTags: command.selectTags, dryRun });
    } finally {
      await store.close();
    }
  }
  process.stdout.write(
    renderPlan(
      plan,
      documents.flatMap((d) => d.substituted),
    ),
  );
  if (command.action === "diff") return plan.changes.length > 0 ? EXIT_DRIFT : 0;
  if (dryRun && plan.changes.length > 0) console.log("dry run: nothing was changed");
  return 0;
}

/** A JSON call to a running gateway; Kong's error bodies become the same messages as local failures. */
async function callAdmin(base: string, path: string, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(base + path, init);
  } catch (error) {
    throw new CommandFailed(`cannot reach the admin API at ${base}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (response.ok) return body;
  if (body.code === 14 && Array.isArray(body.problems))
    throw new InvalidConfig(body.problems as ConstructorParameters<typeof InvalidConfig>[0]);
  const message = typeof body.message === "string" ? body.message : text.slice(0, 200);
  throw new CommandFailed(`${base}${path.split("?")[0]} answered ${response.status}: ${message}`);
}
