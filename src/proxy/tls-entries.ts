// Which certificate a TLS handshake gets: Bun's `tls` list, built from the certificates and SNIs of a
// snapshot. Bun (uWS) picks the entry whose serverName matches the client's SNI — exact names before
// `*.` wildcards, as Kong — and the first entry, which has no serverName, when none matches.
import type { SnapshotEntities } from "./snapshot.ts";

/** One entry of Bun.serve's `tls` list. */
export type TlsEntry = { cert: string; key: string; serverName?: string };

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
    named.push({ serverName: sni.name, cert: certificate.cert, key: certificate.key });
    // The content, not updated_at: two writes within one second must still swap.
    signature.push(`${sni.name}=${Bun.hash(certificate.cert + certificate.key)}`);
  }
  return { entries: [{ ...defaultCertificate }, ...named], signature: signature.join(",") };
}
