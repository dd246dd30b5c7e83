// A service's TLS to its upstream, as Bun's fetch takes it (Kong's tls_verify, ca_certificates and
// client_certificate). Kong verifies upstream certificates only when told to (tls_verify true); the
// trusted CAs are the service's ca_certificates, else the system's. tls_verify_depth has no counterpart in
// Bun's fetch: no verify-depth option, and checkServerIdentity sees only the leaf (stored and ignored;
// README). The store refuses references to missing certificates; one that is missing all the same (a row
// written before that check) is a fault of the service, reported like any entity that cannot be built.
import type { CaCertificate, Certificate } from "../schemas/certificates.ts";
import type { Service } from "../schemas/services.ts";

export type UpstreamTls = {
  rejectUnauthorized: boolean;
  /** Trusted CAs (PEM); absent: the system's. */
  ca?: string[];
  /** The client certificate (mutual TLS) and its key. */
  cert?: string;
  key?: string;
};

export type TlsMaterial = {
  certificates: ReadonlyMap<string, Certificate>;
  caCertificates: ReadonlyMap<string, CaCertificate>;
};

export function tlsMaterial(input: {
  certificates?: readonly Certificate[];
  ca_certificates?: readonly CaCertificate[];
}): TlsMaterial {
  return {
    certificates: new Map((input.certificates ?? []).map((c) => [c.id, c])),
    caCertificates: new Map((input.ca_certificates ?? []).map((c) => [c.id, c])),
  };
}

/** The fetch `tls` option of an https service; throws when it names a certificate that does not exist. */
export function upstreamTls(service: Service, material: TlsMaterial): UpstreamTls {
  const tls: UpstreamTls = { rejectUnauthorized: service.tls_verify === true };
  if (service.ca_certificates !== null && service.ca_certificates.length > 0)
    tls.ca = service.ca_certificates.map((id) => {
      const ca = material.caCertificates.get(id);
      if (ca === undefined) throw new Error(`ca_certificates: no CA certificate with id ${id}`);
      return ca.cert;
    });
  if (service.client_certificate !== null) {
    const id = service.client_certificate.id;
    const certificate = material.certificates.get(id);
    if (certificate === undefined) throw new Error(`client_certificate: no certificate with id ${id}`);
    tls.cert = certificate.cert;
    tls.key = certificate.key;
  }
  return tls;
}
