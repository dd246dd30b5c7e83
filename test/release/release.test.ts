// The release files as a user downloads them: one executable per platform with the right name, format,
// CPU and C library, carrying Portico and its build stamp; SHA256SUMS that `sha256sum -c` accepts; the
// linux-x64 file runs here and the linux-arm64 one runs under user-mode emulation (qemu). CI builds the
// release once and passes PORTICO_RELEASE_DIR; a plain `bun test` builds it into a temporary directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { compile } from "../../scripts/compile.ts";
import { adHocSign, MachOSignError } from "../../scripts/macho-sign.ts";
import { buildRelease, RELEASE_TARGETS, type ReleaseTarget, releaseFileName } from "../../scripts/release.ts";
import { parseExecutable } from "../support/executable-format.ts";
import { ROOT, runPortico, startPortico } from "../support/process.ts";

const prebuilt = process.env.PORTICO_RELEASE_DIR;
const ownBuild = !(prebuilt && existsSync(join(prebuilt, "SHA256SUMS")));
const dir = ownBuild ? mkdtempSync(join(tmpdir(), "portico-release-")) : prebuilt!;
const scratch = mkdtempSync(join(tmpdir(), "portico-release-run-"));

beforeAll(async () => {
  if (ownBuild) await buildRelease(dir, RELEASE_TARGETS, { quiet: true, log: () => {} });
}, 300_000);

afterAll(() => {
  if (ownBuild) rmSync(dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const fileOf = (name: string) => {
  const target = RELEASE_TARGETS.find((t) => t.name === name)!;
  return join(dir, releaseFileName(target));
};

function checkoutCommit(): string {
  const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: ROOT });
  if (head.exitCode !== 0) throw new Error("the release test needs the git checkout it was built from");
  return head.stdout.toString().trim();
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

const EXPECTED_INTERPRETER: Record<string, string> = {
  "x64 glibc": "/lib64/ld-linux-x86-64.so.2",
  "arm64 glibc": "/lib/ld-linux-aarch64.so.1",
  "x64 musl": "/lib/ld-musl-x86_64.so.1",
};

describe("npm run release", () => {
  test("one file per platform, portico-<version>-<os>-<arch>[.exe], and SHA256SUMS", () => {
    expect(readdirSync(dir).sort()).toEqual(
      [
        "SHA256SUMS",
        `portico-${pkg.version}-darwin-arm64`,
        `portico-${pkg.version}-darwin-x64`,
        `portico-${pkg.version}-linux-arm64`,
        `portico-${pkg.version}-linux-x64`,
        `portico-${pkg.version}-linux-x64-musl`,
        `portico-${pkg.version}-windows-x64.exe`,
      ].sort(),
    );
  });

  test("SHA256SUMS holds each file's SHA-256, and sha256sum -c accepts it", async () => {
    const text = await Bun.file(join(dir, "SHA256SUMS")).text();
    const lines = text.trimEnd().split("\n");
    const listed = lines.map((line) => {
      const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      expect(match).not.toBeNull();
      return { hash: match![1]!, name: match![2]! };
    });
    expect(listed.map((l) => l.name)).toEqual(RELEASE_TARGETS.map((t) => releaseFileName(t)));
    for (const { hash, name } of listed) expect(await sha256Of(join(dir, name))).toBe(hash);

    const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: dir });
    expect(check.exitCode).toBe(0);
    expect(check.stdout.toString().trimEnd().split("\n")).toEqual(listed.map((l) => `${l.name}: OK`));
  }, 60_000);

  test("a file that does not match its line fails sha256sum -c", () => {
    const line = `${"0".repeat(64)}  ${releaseFileName(RELEASE_TARGETS[0]!)}\n`;
    const sums = join(scratch, "BAD-SHA256SUMS");
    writeFileSync(sums, line);
    const check = Bun.spawnSync(["sha256sum", "-c", sums], { cwd: dir });
    expect(check.exitCode).toBe(1);
    expect(check.stdout.toString()).toContain("FAILED");
  });

  test.each(RELEASE_TARGETS.map((t) => [t.name, t] as [string, ReleaseTarget]))(
    "%s: executable format, CPU, C library, embedded Portico with this build's stamp",
    async (_name, target) => {
      const bytes = await Bun.file(join(dir, releaseFileName(target))).bytes();
      const info = parseExecutable(bytes);
      expect(info.format).toBe(target.format);
      expect(info.arch).toBe(target.arch);
      if (target.format === "elf")
        expect(info.interpreter).toBe(EXPECTED_INTERPRETER[`${target.arch} ${target.libc}`]!);
      // Apple Silicon kills a binary whose signature does not match its pages; Intel Macs kill one whose
      // hardened-runtime signature does not (the runtime Bun embeds for darwin-x64 carries such a signature).
      if (target.format === "macho") expect(info.signature).toBe("valid");
      if (target.format === "pe")
        expect({ pe32plus: info.pe32plus, subsystem: info.subsystem }).toEqual({
          pe32plus: true,
          subsystem: 3,
        });
      expect(info.payload).not.toBeNull();
      const payload = Buffer.from(bytes.buffer, bytes.byteOffset + info.payload!.offset, info.payload!.size);
      expect(payload.indexOf("Welcome to portico")).toBeGreaterThan(-1);
      expect(payload.indexOf(checkoutCommit())).toBeGreaterThan(-1);
    },
    30_000,
  );

  test("the linux-x64 file runs here and names this checkout's commit", async () => {
    if (process.platform !== "linux" || process.arch !== "x64") return;
    const result = await runPortico([fileOf("linux-x64")], ["version"], { cwd: scratch });
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith(`portico ${pkg.version}\ncommit  ${checkoutCommit()}`);
    expect(result.stdout).toContain(`bun     ${Bun.version} (linux-x64)`);
  });

  test("--only with an unknown platform exits with code 2 before building anything", () => {
    const run = Bun.spawnSync(
      [process.execPath, join(ROOT, "scripts", "release.ts"), "--only", "plan9-x64"],
      {
        cwd: ROOT,
      },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toContain("unknown target plan9-x64 (expected: linux-x64, linux-x64-musl");
  });
});

describe("ad-hoc Mach-O signing (scripts/macho-sign.ts)", () => {
  test("re-signing Bun's own darwin-arm64 output gives the same bytes Bun wrote", async () => {
    const source = join(scratch, "hello.ts");
    writeFileSync(source, 'console.log("hello");\n');
    const raw = compile({
      entries: [source],
      outfile: join(scratch, "hello-darwin-arm64"),
      target: "bun-darwin-arm64",
      quiet: true,
    });
    const bytes = await Bun.file(raw).bytes();
    expect(parseExecutable(bytes).signature).toBe("valid");
    expect(Buffer.compare(adHocSign(bytes), bytes)).toBe(0);
  }, 120_000);

  test("a changed page makes the signature invalid, and signing again makes it valid", async () => {
    const bytes = await Bun.file(fileOf("darwin-x64")).bytes();
    const info = parseExecutable(bytes);
    const tampered = bytes.slice();
    tampered[info.payload!.offset + 100]! ^= 0xff;
    expect(parseExecutable(tampered).signature).toBe("invalid");
    expect(parseExecutable(adHocSign(tampered)).signature).toBe("valid");
  }, 30_000);

  test("a file that is not a 64-bit Mach-O is refused", async () => {
    const elf = await Bun.file(fileOf("linux-x64")).slice(0, 4096).bytes();
    expect(() => adHocSign(elf)).toThrow(MachOSignError);
  });
});

/** Debian's qemu-user-static runs the arm64 file; libc6-arm64-cross provides its C library. */
const QEMU = Bun.which("qemu-aarch64-static") ?? Bun.which("qemu-aarch64");
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const emulator =
  QEMU && existsSync(join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1"))
    ? [QEMU, "-L", ARM64_SYSROOT]
    : null;
if (!emulator && !process.env.CI)
  console.log("skipped: linux-arm64 under emulation (apt-get install qemu-user-static libc6-arm64-cross)");

describe.skipIf(!emulator && !process.env.CI)("linux-arm64 under user-mode emulation", () => {
  test("starts, answers GET / and the proxy, and stops on SIGTERM", async () => {
    if (!emulator) throw new Error("CI needs qemu-user-static and libc6-arm64-cross (.ci/run installs them)");
    const binary = fileOf("linux-arm64");
    const version = await runPortico([...emulator, binary], ["version"], { cwd: scratch });
    expect(version.code).toBe(0);
    expect(version.stdout).toContain(`bun     ${Bun.version} (linux-arm64)`);

    const cwd = mkdtempSync(join(scratch, "arm64-"));
    const gateway = await startPortico(
      [...emulator, binary],
      ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
      { cwd, startTimeoutMs: 90_000 },
    );
    try {
      const info = await fetch(`${gateway.adminUrl}/`);
      expect(info.status).toBe(200);
      expect(((await info.json()) as { version: string }).version).toBe(pkg.version);
      const unmatched = await fetch(`${gateway.proxyUrl}/nothing-here`);
      expect(unmatched.status).toBe(404);
    } finally {
      expect(await gateway.stop("SIGTERM")).toBe(0);
    }
  }, 180_000);
});
