// Writes schema.graphql (the GraphQL admin's SDL) at the repository root from the Pothos schema.
// test/graphql checks that the committed file is current, so a schema change without a re-run fails.
//   bun scripts/graphql-schema.ts          write schema.graphql
//   bun scripts/graphql-schema.ts --check  exit 1 when it is out of date
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { printSdl } from "../src/admin/graphql/schema.ts";

export const SCHEMA_FILE = join(import.meta.dir, "..", "schema.graphql");

if (import.meta.main) {
  const sdl = printSdl();
  if (process.argv.includes("--check")) {
    if (!existsSync(SCHEMA_FILE) || readFileSync(SCHEMA_FILE, "utf8") !== sdl) {
      console.error("schema.graphql is out of date: run bun scripts/graphql-schema.ts");
      process.exit(1);
    }
    console.log("schema.graphql is up to date");
  } else {
    writeFileSync(SCHEMA_FILE, sdl);
    console.log(`wrote ${SCHEMA_FILE}`);
  }
}
