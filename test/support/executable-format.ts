// Reads the headers of an executable (ELF, Mach-O, PE) without running it, to check a cross-compiled
// release file: its format, CPU, C library, where Bun embedded the program, and (Mach-O) whether the code
// signature still matches the bytes, since Apple Silicon refuses to start a binary whose signature does not.

export type Arch = "x64" | "arm64";

export type ExecutableInfo = {
  format: "elf" | "macho" | "pe";
  arch: Arch | `machine 0x${string}`;
  /** The file offset and size of Bun's embedded program (ELF/PE section `.bun`, Mach-O segment `__BUN`). */
  payload: { offset: number; size: number } | null;
  /** ELF: the dynamic loader named in PT_INTERP (it tells glibc from musl); null when static. */
  interpreter?: string | null;
  /** Mach-O: "valid" when every code page hashes to its CodeDirectory entry. */
  signature?: "none" | "valid" | "invalid";
  /** PE: the Windows subsystem (3 = console) and whether the optional header is PE32+ (64-bit). */
  subsystem?: number;
  pe32plus?: boolean;
};

export class NotAnExecutable extends Error {}

const hex = (n: number) => n.toString(16);

/** Little-endian readers by default; DataView throws a RangeError past the end of the file. */
function reader(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u8: (o: number) => view.getUint8(o),
    u16: (o: number) => view.getUint16(o, true),
    u32: (o: number, littleEndian = true) => view.getUint32(o, littleEndian),
    u64: (o: number) => Number(view.getBigUint64(o, true)),
    /** A NUL-terminated string in a field of `length` bytes. */
    text: (o: number, length: number) => {
      if (o + length > bytes.byteLength) throw new RangeError("past the end");
      const raw = bytes.subarray(o, o + length);
      const end = raw.indexOf(0);
      return new TextDecoder().decode(end === -1 ? raw : raw.subarray(0, end));
    },
  };
}

export function parseExecutable(bytes: Uint8Array): ExecutableInfo {
  const r = reader(bytes);
  try {
    if (bytes.byteLength >= 4 && r.u32(0, false) === 0x7f454c46) return parseElf(r);
    if (bytes.byteLength >= 4 && r.u32(0) === 0xfeedfacf) return parseMachO(bytes, r);
    if (bytes.byteLength >= 2 && r.u16(0) === 0x5a4d) return parsePe(r);
  } catch (error) {
    if (error instanceof RangeError) throw new NotAnExecutable(`truncated: ${bytes.byteLength} bytes`);
    throw error;
  }
  throw new NotAnExecutable("no ELF, 64-bit Mach-O or PE signature at the start of the file");
}

type Reader = ReturnType<typeof reader>;

function parseElf(r: Reader): ExecutableInfo {
  if (r.u8(4) !== 2 || r.u8(5) !== 1) throw new NotAnExecutable("ELF but not 64-bit little-endian");
  const machine = r.u16(18);
  const arch = machine === 0x3e ? "x64" : machine === 0xb7 ? "arm64" : (`machine 0x${hex(machine)}` as const);
  const [phoff, phentsize, phnum] = [r.u64(32), r.u16(54), r.u16(56)];
  let interpreter: string | null = null;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (r.u32(ph) === 3 /* PT_INTERP */) interpreter = r.text(r.u64(ph + 8), r.u64(ph + 32));
  }
  const [shoff, shentsize, shnum, shstrndx] = [r.u64(40), r.u16(58), r.u16(60), r.u16(62)];
  const names = r.u64(shoff + shstrndx * shentsize + 24);
  let payload: ExecutableInfo["payload"] = null;
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (r.text(names + r.u32(sh), 16) === ".bun") payload = { offset: r.u64(sh + 24), size: r.u64(sh + 32) };
  }
  return { format: "elf", arch, interpreter, payload };
}

const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;

function parseMachO(bytes: Uint8Array, r: Reader): ExecutableInfo {
  const cpu = r.u32(4);
  const arch = cpu === 0x01000007 ? "x64" : cpu === 0x0100000c ? "arm64" : (`machine 0x${hex(cpu)}` as const);
  let payload: ExecutableInfo["payload"] = null;
  let signature: ExecutableInfo["signature"] = "none";
  let at = 32;
  for (let i = 0, count = r.u32(16); i < count; i++) {
    const [cmd, size] = [r.u32(at), r.u32(at + 4)];
    if (cmd === LC_SEGMENT_64 && r.text(at + 8, 16) === "__BUN")
      payload = { offset: r.u64(at + 40), size: r.u64(at + 48) };
    if (cmd === LC_CODE_SIGNATURE) signature = verifyCodeSignature(bytes, r, r.u32(at + 8));
    at += size;
  }
  return { format: "macho", arch, payload, signature };
}

/** Checks each page of the file against the SHA-256 hashes in the signature's CodeDirectory. */
function verifyCodeSignature(bytes: Uint8Array, r: Reader, superBlob: number): "valid" | "invalid" {
  // Code signature blobs are big-endian.
  if (r.u32(superBlob, false) !== 0xfade0cc0) return "invalid";
  let directory = -1;
  for (let i = 0, count = r.u32(superBlob + 8, false); i < count; i++) {
    const entry = superBlob + 12 + i * 8;
    if (r.u32(entry, false) === 0 /* CSSLOT_CODEDIRECTORY */) directory = superBlob + r.u32(entry + 4, false);
  }
  if (directory < 0 || r.u32(directory, false) !== 0xfade0c02) return "invalid";
  const hashOffset = r.u32(directory + 16, false);
  const codeSlots = r.u32(directory + 28, false);
  const codeLimit = r.u32(directory + 32, false);
  const [hashSize, hashType, pageShift] = [r.u8(directory + 36), r.u8(directory + 37), r.u8(directory + 39)];
  if (hashType !== 2 /* SHA-256 */ || hashSize !== 32 || codeSlots === 0) return "invalid";
  const page = 2 ** pageShift;
  for (let slot = 0; slot < codeSlots; slot++) {
    const start = slot * page;
    const digest = new Bun.CryptoHasher("sha256")
      .update(bytes.subarray(start, Math.min(start + page, codeLimit)))
      .digest();
    const expected = directory + hashOffset + slot * hashSize;
    if (Buffer.compare(digest, bytes.subarray(expected, expected + hashSize)) !== 0) return "invalid";
  }
  return "valid";
}

function parsePe(r: Reader): ExecutableInfo {
  const pe = r.u32(0x3c);
  if (r.u32(pe) !== 0x00004550) throw new NotAnExecutable("MZ header without a PE signature");
  const machine = r.u16(pe + 4);
  const arch =
    machine === 0x8664 ? "x64" : machine === 0xaa64 ? "arm64" : (`machine 0x${hex(machine)}` as const);
  const sections = r.u16(pe + 6);
  const optional = pe + 24;
  const optionalSize = r.u16(pe + 20);
  let payload: ExecutableInfo["payload"] = null;
  for (let i = 0; i < sections; i++) {
    const section = optional + optionalSize + i * 40;
    if (r.text(section, 8) === ".bun") payload = { offset: r.u32(section + 20), size: r.u32(section + 16) };
  }
  return {
    format: "pe",
    arch,
    payload,
    pe32plus: r.u16(optional) === 0x20b,
    subsystem: r.u16(optional + 68),
  };
}
