// Import rules from the design: the data plane never reaches into the control plane, and only
// runtime/config.ts reads the environment.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { renderEmbeddedMigrations } from "../scripts/embed-migrations.ts";

const ROOT = join(import.meta.dir, "..");
const files = [...new Bun.Glob("src/**/*.ts").scanSync(ROOT)].filter((f) => !f.endsWith(".generated.ts"));

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^"']*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);
}

function resolved(file: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return relative(ROOT, join(ROOT, file, "..", specifier));
}

describe("architecture", () => {
  test("src/proxy imports only schemas/, errors.ts, plugins/contract and itself", () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.startsWith("src/proxy/"))) {
      for (const spec of importsOf(file)) {
        const target = resolved(file, spec);
        if (!target.startsWith("src/")) continue;
        const allowed =
          target.startsWith("src/proxy/") ||
          target.startsWith("src/schemas/") ||
          target === "src/errors.ts" ||
          target.startsWith("src/plugins/");
        if (!allowed) offenders.push(`${file} → ${target}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("schemas/ is a leaf: it imports only itself and errors.ts", () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.startsWith("src/schemas/")))
      for (const spec of importsOf(file)) {
        const target = resolved(file, spec);
        if (target.startsWith("src/") && !target.startsWith("src/schemas/") && target !== "src/errors.ts")
          offenders.push(`${file} → ${target}`);
      }
    expect(offenders).toEqual([]);
  });

  test("plugins/ (data plane) never imports store/, admin/ or runtime/", () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.startsWith("src/plugins/")))
      for (const spec of importsOf(file)) {
        const target = resolved(file, spec);
        if (/^src\/(store|admin|runtime)\//.test(target)) offenders.push(`${file} → ${target}`);
      }
    expect(offenders).toEqual([]);
  });

  test("admin/ and store/ never import runtime/ or proxy/", () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.startsWith("src/admin/") || f.startsWith("src/store/"))) {
      for (const spec of importsOf(file)) {
        const target = resolved(file, spec);
        if (target.startsWith("src/runtime/") || target.startsWith("src/proxy/"))
          offenders.push(`${file} → ${target}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("only runtime/config.ts reads environment variables", () => {
    const readers = files.filter((file) => {
      const text = readFileSync(join(ROOT, file), "utf8");
      return /process\.env|Bun\.env|import\.meta\.env/.test(text);
    });
    expect(readers.filter((f) => f !== "src/runtime/config.ts" && f !== "src/main.ts")).toEqual([]);
  });

  test("the embedded migrations module matches drizzle/ (run `npm run db:generate`)", () => {
    const current = readFileSync(join(ROOT, "src/store/migrations.generated.ts"), "utf8");
    expect(current).toBe(renderEmbeddedMigrations());
  });
});
