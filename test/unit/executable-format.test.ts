// The header reader behind the release checks: what is not an executable, or is cut short, is refused
// with its own error rather than misread.
import { describe, expect, test } from "bun:test";
import { NotAnExecutable, parseExecutable } from "../support/executable-format.ts";

describe("parseExecutable", () => {
  test("text, an empty file and a lone MZ are not executables", () => {
    expect(() => parseExecutable(new TextEncoder().encode("#!/bin/sh\necho hi\n"))).toThrow(NotAnExecutable);
    expect(() => parseExecutable(new Uint8Array(0))).toThrow(NotAnExecutable);
    const mz = new Uint8Array(0x40);
    mz.set([0x4d, 0x5a]);
    expect(() => parseExecutable(mz)).toThrow("MZ header without a PE signature");
  });

  test("the running Bun is read as an ELF (or Mach-O) for this machine's CPU", async () => {
    const info = parseExecutable(await Bun.file(process.execPath).bytes());
    expect(info.format).toBe(process.platform === "darwin" ? "macho" : "elf");
    expect(info.arch).toBe(process.arch as "x64" | "arm64");
  });

  test("an ELF cut after its first header is refused as truncated", async () => {
    if (process.platform !== "linux") return;
    const head = await Bun.file(process.execPath).slice(0, 64).bytes();
    expect(() => parseExecutable(head)).toThrow("truncated: 64 bytes");
  });
});
