// RFC 4122 version 5 ids (SHA-1 of a namespace and a name): a declarative entity without an id gets the same
// id every time its file is applied, as in Kong's DB-less mode.

/** Portico's namespace for declarative ids (any fixed UUID works; this one is Portico's own). */
const NAMESPACE = Buffer.from("6f8a0c1e4b7d5a2e9c3f1d0b8e7a6c5d", "hex");
const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function uuidV5(name: string): string {
  // One-shot hashing of one buffer: a file of 10,000 entities makes 10,000 of these.
  const bytes = encoder.encode(name);
  const input = new Uint8Array(NAMESPACE.length + bytes.length);
  input.set(NAMESPACE);
  input.set(bytes, NAMESPACE.length);
  const hash = Bun.SHA1.hash(input) as Uint8Array;
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  let out = "";
  for (let i = 0; i < 16; i++) {
    out += HEX[hash[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) out += "-";
  }
  return out;
}
