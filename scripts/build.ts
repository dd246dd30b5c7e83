// Builds dist/portico: one self-contained executable for this machine (runtime, migrations, GraphiQL assets
// included), with the flags and build stamp of scripts/compile.ts. Extra arguments go to `bun build`.
import { join } from "node:path";
import { buildStamp, compile, PORTICO_ENTRIES, ROOT } from "./compile.ts";

const started = performance.now();
const outfile = compile({
  entries: PORTICO_ENTRIES,
  outfile: join(ROOT, "dist", "portico"),
  stamp: buildStamp(),
  extra: process.argv.slice(2),
});
console.log(`built ${outfile} in ${Math.round(performance.now() - started)} ms`);
