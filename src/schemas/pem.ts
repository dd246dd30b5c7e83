// PEM certificates and keys, read with node:crypto (Bun's built-in OpenSSL/BoringSSL bindings). The
// messages are Kong's (typedefs.certificate / typedefs.key and the certificates entity checks); a key never
// appears in one.
import type { KeyObject, X509Certificate } from "node:crypto";

// Loaded on first use: a static import of node:crypto is evaluated at every start-up (the bundler hoists it)
// and costs milliseconds of it; only certificate and key writes need it.
const crypto = () => process.getBuiltinModule("node:crypto");

/** The first certificate of a PEM chain, or Kong's message. */
export function readCertificate(pem: string): X509Certificate | string {
  try {
    return new (crypto().X509Certificate)(pem);
  } catch (error) {
    return `invalid certificate: ${opensslReason(error)}`;
  }
}

/** A private key, or Kong's message. */
export function readPrivateKey(pem: string): KeyObject | string {
  try {
    const key = crypto().createPrivateKey(pem);
    return key;
  } catch (error) {
    return `invalid key: ${opensslReason(error)}`;
  }
}

/** OpenSSL's reason without its error-code prefix (`error:0900006e:PEM routines:OPENSSL_internal:`). */
function opensslReason(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const parts = message.split(":");
  return parts.length >= 5 && parts[0] === "error" ? parts.slice(4).join(":") : message;
}

/** Kong's check that a key belongs to a certificate. */
export function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}
