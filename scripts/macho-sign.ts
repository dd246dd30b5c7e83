// Ad-hoc code signature for a 64-bit Mach-O executable, written without macOS tools. Bun 1.4.5 signs its
// darwin-arm64 output itself, but its darwin-x64 output keeps the Bun runtime's own signature, which no
// longer matches the file once the program is embedded (and a hardened-runtime signature with stale page
// hashes gets the process killed). This writes the signature Bun writes for darwin-arm64: one SHA-256
// CodeDirectory (version 0x20400, flags adhoc|linker-signed, identifier "a.out") over every 4 KiB page
// before the signature, replacing whatever signature the file had. test/release checks that re-signing
// Bun's own darwin-arm64 output reproduces it byte for byte.

const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const IDENTIFIER = "a.out";
const CODE_DIRECTORY_HEADER = 88;

type Segment = { at: number; fileoff: number; filesize: number };

export class MachOSignError extends Error {}

export function adHocSign(input: Uint8Array): Uint8Array<ArrayBuffer> {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.byteLength < 32 || view.getUint32(0, true) !== 0xfeedfacf)
    throw new MachOSignError("not a 64-bit little-endian Mach-O file");
  const segments = new Map<string, Segment>();
  let signatureCommand = -1;
  let at = 32;
  for (let i = 0, count = view.getUint32(16, true); i < count; i++) {
    const cmd = view.getUint32(at, true);
    if (cmd === LC_SEGMENT_64) {
      const name = new TextDecoder().decode(input.subarray(at + 8, at + 24)).replace(/\0+$/, "");
      segments.set(name, {
        at,
        fileoff: Number(view.getBigUint64(at + 40, true)),
        filesize: Number(view.getBigUint64(at + 48, true)),
      });
    }
    if (cmd === LC_CODE_SIGNATURE) signatureCommand = at;
    at += view.getUint32(at + 4, true);
  }
  const text = segments.get("__TEXT");
  const linkedit = segments.get("__LINKEDIT");
  if (!text || !linkedit || signatureCommand < 0)
    throw new MachOSignError("expected __TEXT, __LINKEDIT and a code signature load command");
  // The old signature is the tail of __LINKEDIT; the new one takes its place (Apple wants 16-byte alignment).
  const codeLimit = view.getUint32(signatureCommand + 8, true);
  if (codeLimit % 16 !== 0 || codeLimit < linkedit.fileoff || codeLimit > input.byteLength)
    throw new MachOSignError("the code signature is not at the end of __LINKEDIT");

  const slots = Math.ceil(codeLimit / PAGE);
  const identifier = new TextEncoder().encode(`${IDENTIFIER}\0`);
  const hashOffset = CODE_DIRECTORY_HEADER + identifier.byteLength;
  const directoryLength = hashOffset + slots * 32;
  const signatureLength = 20 + directoryLength;

  const output = new Uint8Array(codeLimit + signatureLength);
  output.set(input.subarray(0, codeLimit));
  const out = new DataView(output.buffer);
  out.setUint32(signatureCommand + 12, signatureLength, true);
  const linkeditSize = codeLimit + signatureLength - linkedit.fileoff;
  out.setBigUint64(linkedit.at + 48, BigInt(linkeditSize), true);
  // The segment must map at least its file bytes (whole 4 KiB pages); it is never shrunk.
  const vmsize = Math.max(
    Number(view.getBigUint64(linkedit.at + 32, true)),
    Math.ceil(linkeditSize / PAGE) * PAGE,
  );
  out.setBigUint64(linkedit.at + 32, BigInt(vmsize), true);

  // SuperBlob (big-endian, as every code signature blob): one CodeDirectory in slot 0.
  let p = codeLimit;
  const be32 = (value: number) => {
    out.setUint32(p, value, false);
    p += 4;
  };
  be32(0xfade0cc0);
  be32(signatureLength);
  be32(1);
  be32(0); // CSSLOT_CODEDIRECTORY
  be32(20);
  const directory = p;
  be32(0xfade0c02);
  be32(directoryLength);
  be32(0x20400);
  be32(0x20002); // CS_ADHOC | CS_LINKER_SIGNED
  be32(hashOffset);
  be32(CODE_DIRECTORY_HEADER);
  be32(0); // special slots
  be32(slots);
  be32(codeLimit);
  output.set([32, 2, 0, PAGE_SHIFT], p); // hash size, SHA-256, platform, page size (log2)
  p += 4;
  be32(0); // spare2
  be32(0); // scatterOffset
  be32(0); // teamOffset
  be32(0); // spare3
  out.setBigUint64(p, 0n, false); // codeLimit64
  out.setBigUint64(p + 8, BigInt(text.fileoff), false); // execSegBase
  out.setBigUint64(p + 16, BigInt(text.filesize), false); // execSegLimit
  out.setBigUint64(p + 24, 1n, false); // CS_EXECSEG_MAIN_BINARY
  output.set(identifier, directory + CODE_DIRECTORY_HEADER);
  // The header changed above, so the pages are hashed last.
  for (let slot = 0; slot < slots; slot++) {
    const start = slot * PAGE;
    const digest = new Bun.CryptoHasher("sha256")
      .update(output.subarray(start, Math.min(start + PAGE, codeLimit)))
      .digest();
    output.set(digest, directory + hashOffset + slot * 32);
  }
  return output;
}
