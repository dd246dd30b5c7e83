// Builds dist/portico: one self-contained executable (runtime, migrations, GraphiQL assets included).
// Flags per PLATFORM-NOTES: bytecode needs ESM; a binary must not pick up .env/bunfig.toml from its cwd.
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "portico");
const args = [
  "build",
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--sourcemap",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  ...process.argv.slice(2),
  "src/main.ts",
  // Proxy worker threads start from their own entry, which the binary must carry.
  "src/runtime/proxy-worker.ts",
  "--outfile",
  outfile,
];
const started = performance.now();
const result = Bun.spawnSync([process.execPath, ...args], {
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
console.log(`built ${outfile} in ${Math.round(performance.now() - started)} ms`);
