// DB-less mode's file: read, substitute ${{ env "PORTICO_X" }}, and load it whole into the in-memory store in
// one transaction. A file that fails leaves the configuration as it was (the transaction never began).
import { readFile } from "node:fs/promises";
import { configurationHash, InvalidConfig, loadText, syncDocuments } from "../declarative/index.ts";
import type { Store } from "../store/contract.ts";

export class DeclarativeFileError extends Error {}

/** Loads `file` as the whole configuration; returns its hash and a one-line summary. */
export async function loadDeclarativeFile(
  store: Store,
  file: string,
  substitutions: Readonly<Record<string, string>>,
): Promise<{ hash: string; summary: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new DeclarativeFileError(
      `cannot read declarative config '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    const document = loadText(text, file, substitutions);
    const plan = await syncDocuments(store, [document], { wholeConfiguration: true });
    const { created, updated, deleted } = plan.summary;
    return {
      hash: configurationHash(document.body),
      summary: `declarative config '${file}' loaded (created ${created}, updated ${updated}, deleted ${deleted})`,
    };
  } catch (error) {
    if (error instanceof InvalidConfig)
      throw new DeclarativeFileError(`invalid declarative config '${file}': ${error.lines().join("; ")}`);
    throw error;
  }
}
