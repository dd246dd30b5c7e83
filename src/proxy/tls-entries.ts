// Which certificate a TLS handshake gets: Bun's `tls` list, built from the certificates and SNIs of a
// snapshot. Bun (uWS) picks the entry whose serverName matches the client's SNI — exact names before
// `*.` wildcards, as Kong — and the first entry, which has no serverName, when none matches. A certificate
// with Kong's alternate pair (cert_alt/key_alt, the other key type) gives its entry both pairs: BoringSSL
// then presents the ECDSA or the RSA one, whichever the client's signature algorithms accept.
import type { SnapshotEntities } from "./snapshot.ts";

/** One entry of Bun.serve's `tls` list: one pair, or a pair and its alternate (same order in both). */
export type TlsEntry = { cert: string | string[]; key: string | string[]; serverName?: string };

export type CertificatePair = { cert: string; key: string };

/**
 * The default certificate first, then one entry per SNI (exact names, then wildcards). An SNI whose
 * certificate is missing is left out. `signature` changes exactly when the list does.
 */
export function tlsEntries(
  defaultCertificate: CertificatePair,
  entities: SnapshotEntities,
): { entries: TlsEntry[]; signature: string } {
  const certificates = new Map((entities.certificates ?? []).map((c) => [c.id, c]));
  const named: TlsEntry[] = [];
  const signature: string[] = [];
  const snis = [...(entities.snis ?? [])].sort(
    (a, b) => Number(a.name.includes("*")) - Number(b.name.includes("*")) || a.name.localeCompare(b.name),
  );
  for (const sni of snis) {
    const certificate = certificates.get(sni.certificate.id);
    if (!certificate) continue;
    const { cert, key, cert_alt: certAlt, key_alt: keyAlt } = certificate;
    named.push(
      certAlt !== null && keyAlt !== null
        ? { serverName: sni.name, cert: [cert, certAlt], key: [key, keyAlt] }
        : { serverName: sni.name, cert, key },
    );
    // The content, not updated_at: two writes within one second must still swap.
    const content = `${cert}${key}${certAlt ?? ""}${keyAlt ?? ""}`;
    signature.push(`${sni.name}=${Bun.hash(content)}`);
  }
  return { entries: [{ ...defaultCertificate }, ...named], signature: signature.join(",") };
}
