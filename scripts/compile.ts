// The one place that knows how Portico becomes an executable: `bun build --compile` with the flags that
// `npm run build`, `npm run release` and bench/startup.ts share, plus the build stamp (version, commit, date).
// Flags per PLATFORM-NOTES: bytecode needs ESM; a binary must not pick up .env/bunfig.toml from its cwd.
// The JIT starts 4× more reluctant (src/runtime/jit-policy.ts puts it back once the node serves): less
// compiling of run-once start-up code on JIT threads that share the cores with the start (paired runs, load
// 7: first admin answer 35.2 → 32.1 ms median, CPU 34.6 → 32.7 ms).
// No source map inside by default (issue 17: 2.5 MB, 2 % of the binary, that only stack traces read);
// `npm run build -- --sourcemap` embeds one so that traces name src/ files and lines. Bun also writes a copy
// beside the output, which the binary never reads: it is deleted.
import { rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import pkg from "../package.json" with { type: "json" };

export const ROOT = join(import.meta.dir, "..");

export const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--compile-jit-policy=4",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
] as const;

/** What `portico version` prints besides the version itself; src/runtime/version.ts reads these defines. */
export type BuildStamp = { commit: string; date: string };

/** The checkout's commit (with `-dirty` when tracked files differ from it) and the build time in UTC. */
export function buildStamp(env: Record<string, string | undefined> = process.env): BuildStamp {
  const git = (...args: string[]) => {
    const run = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
    return run.exitCode === 0 ? run.stdout.toString().trim() : undefined;
  };
  const head = git("rev-parse", "--short=12", "HEAD");
  const dirty = head !== undefined && (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
  // SOURCE_DATE_EPOCH (reproducible-builds.org) pins the date so that two builds of one commit are equal.
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  const when = Number.isFinite(epoch) && env.SOURCE_DATE_EPOCH ? new Date(epoch * 1000) : new Date();
  return {
    commit: head === undefined ? "unknown" : `${head}${dirty ? "-dirty" : ""}`,
    date: `${when.toISOString().slice(0, 19)}Z`,
  };
}

export type CompileOptions = {
  /** The program's entry first; more entrypoints (worker threads) are embedded beside it. */
  entries: readonly string[];
  outfile: string;
  /** A Bun target such as `bun-linux-arm64`; the machine's own platform when absent. */
  target?: string;
  /** Stamped into the binary as PORTICO_COMMIT / PORTICO_BUILD_DATE (only Portico's entry reads them). */
  stamp?: BuildStamp;
  /** Extra `bun build` flags (`npm run build -- --flag`). */
  extra?: readonly string[];
  /** Keep Bun's progress lines off the terminal (benchmarks, tests). */
  quiet?: boolean;
};

/** Compiles one executable; throws with Bun's output when the build fails. Returns the file written. */
export function compile(options: CompileOptions): string {
  const defines = options.stamp
    ? [
        `--define=PORTICO_COMMIT=${JSON.stringify(options.stamp.commit)}`,
        `--define=PORTICO_BUILD_DATE=${JSON.stringify(options.stamp.date)}`,
      ]
    : [];
  const args = [
    "build",
    ...COMPILE_FLAGS,
    ...(options.target ? [`--target=${options.target}`] : []),
    ...defines,
    ...(options.extra ?? []),
    ...options.entries,
    "--outfile",
    options.outfile,
  ];
  const output = options.quiet ? "pipe" : "inherit";
  const result = Bun.spawnSync([process.execPath, ...args], { cwd: ROOT, stdout: output, stderr: output });
  if (result.exitCode !== 0)
    throw new Error(`bun build failed for ${options.outfile}:\n${result.stderr?.toString() ?? ""}`);
  // Bun appends .exe for Windows targets.
  const written = options.target?.includes("windows") ? `${options.outfile}.exe` : options.outfile;
  // Bun names the program's map after the output and any further entry's after that entry.
  rmSync(`${options.outfile}.map`, { force: true });
  for (const entry of options.entries.slice(1))
    rmSync(join(dirname(options.outfile), `${basename(entry).replace(/\.[cm]?[jt]sx?$/, "")}.js.map`), {
      force: true,
    });
  return written;
}

/** main.ts, and the proxy worker threads' own entry, which the binary must carry (runtime/worker-plane.ts). */
export const PORTICO_ENTRIES = [
  join(ROOT, "src", "main.ts"),
  join(ROOT, "src", "runtime", "proxy-worker.ts"),
];
export const PORTICO_VERSION: string = pkg.version;
