// A self-signed ECDSA P-256 certificate for the TLS listeners when no --ssl-cert is given (Kong generates one
// too). Bun has WebCrypto but no X.509 writer; a self-signed certificate needs only a handful of DER types, so
// they are written here rather than adding a package (@peculiar/x509 needs a global reflect-metadata
// polyfill and ~20 packages; node-forge cannot sign with ECDSA and makes RSA keys in slow pure JavaScript).
// node:crypto's X509Certificate reads the result back in the tests.

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Buffer.concat([Uint8Array.from([tag, ...length(body.length)]), body]);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      chunk.unshift((v % 128) | (chunk.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...chunk);
  }
  return tlv(OID, Uint8Array.from(bytes));
}

/** A positive DER INTEGER from big-endian bytes (leading zeros trimmed, a zero added before a high bit). */
function unsigned(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(INTEGER, (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Uint8Array.of(0), trimmed]) : trimmed);
}

/** RFC 5280: UTCTime (two-digit year) through 2049, GeneralizedTime after. */
function time(date: Date): Uint8Array {
  const text = `${date.toISOString().slice(0, 19).replace(/[-:T]/g, "")}Z`;
  return date.getUTCFullYear() < 2050
    ? tlv(UTC_TIME, Buffer.from(text.slice(2)))
    : tlv(GENERALIZED_TIME, Buffer.from(text));
}

function name(commonName: string): Uint8Array {
  return tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, oid("2.5.4.3"), tlv(UTF8_STRING, Buffer.from(commonName)))));
}

function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const ECDSA_WITH_SHA256 = tlv(SEQUENCE, oid("1.2.840.10045.4.3.2"));

export type CertificatePair = { cert: string; key: string };

/** A fresh key and a certificate for `commonName` (also its DNS name), valid for `days`. */
export async function selfSignedCertificate(commonName = "localhost", days = 3650): Promise<CertificatePair> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f;
  const subject = name(commonName);
  const dnsName = tlv(0x82, Buffer.from(commonName));
  const extensions = tlv(
    0xa3,
    tlv(
      SEQUENCE,
      // subjectAltName: DNS:<commonName>
      tlv(SEQUENCE, oid("2.5.29.17"), tlv(OCTET_STRING, tlv(SEQUENCE, dnsName))),
    ),
  );
  const tbs = tlv(
    SEQUENCE,
    tlv(0xa0, tlv(INTEGER, Uint8Array.of(2))), // version 3
    unsigned(serial),
    ECDSA_WITH_SHA256,
    subject,
    tlv(SEQUENCE, time(notBefore), time(notAfter)),
    subject,
    spki,
    extensions,
  );
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(tbs)),
  );
  // WebCrypto signs as r‖s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }.
  const signature = tlv(SEQUENCE, unsigned(raw.subarray(0, 32)), unsigned(raw.subarray(32)));
  const certificate = tlv(
    SEQUENCE,
    tbs,
    ECDSA_WITH_SHA256,
    tlv(BIT_STRING, Buffer.concat([Uint8Array.of(0), signature])),
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: pem("CERTIFICATE", certificate), key: pem("PRIVATE KEY", pkcs8) };
}
