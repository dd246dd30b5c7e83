// RFC 4122 version 5 ids (SHA-1 of a namespace and a name): a declarative entity without an id gets the same
// id every time its file is applied, as in Kong's DB-less mode.

/** Portico's namespace for declarative ids (any fixed UUID works; this one is Portico's own). */
const NAMESPACE = Buffer.from("6f8a0c1e4b7d5a2e9c3f1d0b8e7a6c5d", "hex");

export function uuidV5(name: string): string {
  const hash = new Bun.CryptoHasher("sha1").update(NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
