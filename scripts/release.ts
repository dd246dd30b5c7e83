// `npm run release`: dist/release/portico-<version>-<os>-<arch>[.exe] for every platform Portico ships,
// cross-compiled from this machine (Bun fetches each target's runtime from the npm registry once and caches
// it), plus SHA256SUMS in the format `sha256sum -c` reads. `--only linux-x64,linux-arm64` builds a subset;
// `--sourcemap` embeds a source map in each file (stack traces name src/ lines; 2.5 MB more).
import { mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { buildStamp, compile, PORTICO_ENTRIES, PORTICO_VERSION, ROOT } from "./compile.ts";
import { adHocSign } from "./macho-sign.ts";

export type ReleaseTarget = {
  /** `<os>-<arch>[-libc]` in the file name. */
  name: string;
  /** Bun's `--target`. */
  bun: string;
  format: "elf" | "macho" | "pe";
  arch: "x64" | "arm64";
  /** ELF only: the C library the runtime is linked against. */
  libc?: "glibc" | "musl";
};

export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  { name: "linux-x64", bun: "bun-linux-x64", format: "elf", arch: "x64", libc: "glibc" },
  { name: "linux-x64-musl", bun: "bun-linux-x64-musl", format: "elf", arch: "x64", libc: "musl" },
  { name: "linux-arm64", bun: "bun-linux-arm64", format: "elf", arch: "arm64", libc: "glibc" },
  { name: "darwin-x64", bun: "bun-darwin-x64", format: "macho", arch: "x64" },
  { name: "darwin-arm64", bun: "bun-darwin-arm64", format: "macho", arch: "arm64" },
  { name: "windows-x64", bun: "bun-windows-x64", format: "pe", arch: "x64" },
];

export const RELEASE_DIR = join(ROOT, "dist", "release");

export function releaseFileName(target: ReleaseTarget, version = PORTICO_VERSION): string {
  return `portico-${version}-${target.name}${target.format === "pe" ? ".exe" : ""}`;
}

/** One `<sha256>  <file>` line per file (two spaces: GNU sha256sum's text mode, accepted everywhere). */
export async function sha256sums(files: readonly string[]): Promise<string> {
  const lines: string[] = [];
  for (const file of files) {
    const digest = Bun.CryptoHasher.hash("sha256", await Bun.file(file).bytes(), "hex");
    lines.push(`${digest}  ${basename(file)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Builds the given targets into `dir` (emptied first, so no stale file is left unlisted). */
export async function buildRelease(
  dir: string,
  targets: readonly ReleaseTarget[],
  options: { quiet?: boolean; log?: (line: string) => void; sourcemap?: boolean } = {},
): Promise<string[]> {
  const log = options.log ?? console.log;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const stamp = buildStamp();
  const files: string[] = [];
  for (const target of targets) {
    const started = performance.now();
    const stem = releaseFileName(target).replace(/\.exe$/, "");
    const file = compile({
      entries: PORTICO_ENTRIES,
      outfile: join(dir, stem),
      target: target.bun,
      stamp,
      quiet: options.quiet ?? false,
      extra: options.sourcemap ? ["--sourcemap"] : [],
    });
    // Bun signs darwin-arm64 output but leaves darwin-x64 with the runtime's stale signature: sign both.
    if (target.format === "macho") await Bun.write(file, adHocSign(await Bun.file(file).bytes()));
    log(`built ${basename(file)} in ${Math.round(performance.now() - started)} ms`);
    files.push(file);
  }
  await Bun.write(join(dir, "SHA256SUMS"), await sha256sums(files));
  log(`wrote ${join(dir, "SHA256SUMS")} (commit ${stamp.commit}, built ${stamp.date})`);
  return files;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { only: { type: "string" }, sourcemap: { type: "boolean" } },
    strict: true,
  });
  const wanted = values.only?.split(",").map((name) => name.trim());
  const unknown = wanted?.filter((name) => !RELEASE_TARGETS.some((t) => t.name === name)) ?? [];
  if (unknown.length > 0) {
    console.error(
      `unknown target ${unknown.join(", ")} (expected: ${RELEASE_TARGETS.map((t) => t.name).join(", ")})`,
    );
    process.exit(2);
  }
  const targets = wanted ? RELEASE_TARGETS.filter((t) => wanted.includes(t.name)) : RELEASE_TARGETS;
  await buildRelease(RELEASE_DIR, targets, { sourcemap: values.sourcemap ?? false });
}
