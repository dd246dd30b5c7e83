// Certificates for TLS tests, made with the openssl command line: a CA, and leaves it signs for given DNS
// names (RSA or ECDSA), written to a temporary folder and returned as PEM.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Pem = { cert: string; key: string; certPath: string; keyPath: string };

/** Runs openssl without blocking the event loop (a gateway may be serving in this same thread). */
async function openssl(args: string[], cwd: string): Promise<void> {
  const run = Bun.spawn(["openssl", ...args], { cwd, stderr: "pipe", stdout: "ignore" });
  const stderr = await new Response(run.stderr).text();
  if ((await run.exited) !== 0) throw new Error(`openssl ${args.join(" ")}: ${stderr}`);
}

const keyArgs = (type: "rsa" | "ec") =>
  type === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

let serial = 0;

export class TestCa {
  readonly dir = mkdtempSync(join(tmpdir(), "portico-certs-"));
  ca!: Pem;

  static async create(name = "Portico Test CA"): Promise<TestCa> {
    const made = new TestCa();
    await made.#init(name);
    return made;
  }

  async #init(name: string): Promise<void> {
    await openssl(
      [
        "req",
        "-x509",
        ...keyArgs("ec"),
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3",
        "-subj",
        `/CN=${name}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      this.dir,
    );
    this.ca = this.#read("ca");
  }

  #read(base: string): Pem {
    const certPath = join(this.dir, `${base}.crt`);
    const keyPath = join(this.dir, `${base}.key`);
    return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8"), certPath, keyPath };
  }

  /** A leaf for `names` (the first is its CN), signed by this CA; `client` for TLS client authentication. */
  async leaf(
    names: string[],
    options: { type?: "rsa" | "ec"; client?: boolean; days?: number } = {},
  ): Promise<Pem> {
    const base = `leaf${++serial}`;
    const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    writeFileSync(
      join(this.dir, `${base}.ext`),
      `subjectAltName=${san}\nextendedKeyUsage=${options.client ? "clientAuth" : "serverAuth"}\n`,
    );
    await openssl(
      [
        "req",
        ...keyArgs(options.type ?? "rsa"),
        "-nodes",
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.csr`,
        "-subj",
        `/CN=${names[0]}`,
      ],
      this.dir,
    );
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${base}.crt`,
        "-days",
        String(options.days ?? 2),
        "-extfile",
        `${base}.ext`,
      ],
      this.dir,
    );
    return this.#read(base);
  }
}

/**
 * A self-signed certificate for `name` (its CN and subjectAltName), trusted by nobody, in `dir`: what a
 * verifying client refuses with DEPTH_ZERO_SELF_SIGNED_CERT.
 */
export async function selfSigned(name: string, dir: string): Promise<Pem> {
  await openssl(
    [
      "req",
      "-x509",
      ...keyArgs("rsa"),
      "-nodes",
      "-keyout",
      "self-signed.key",
      "-out",
      "self-signed.crt",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
    ],
    dir,
  );
  const certPath = join(dir, "self-signed.crt");
  const keyPath = join(dir, "self-signed.key");
  return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8"), certPath, keyPath };
}

/** The CN of the certificate a TLS server presents for `serverName` (openssl s_client). */
export async function presentedSubject(port: number, serverName: string): Promise<string> {
  const client = Bun.spawn(
    ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-servername", serverName],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(client.stdout).text();
  await client.exited;
  const match = /subject=.*?CN\s*=\s*([^\n,/]+)/.exec(out);
  return match ? match[1]!.trim() : `no certificate: ${out.slice(0, 200)}`;
}

/**
 * The SHA-256 fingerprint of the certificate a TLS server presents for `serverName`; `options` are more
 * s_client flags (`-sigalgs ECDSA+SHA256` to accept only an ECDSA certificate).
 */
export async function presentedFingerprint(
  port: number,
  serverName: string,
  options: string[] = [],
): Promise<string> {
  const client = Bun.spawn(
    ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-servername", serverName, ...options],
    { stdin: "ignore", stdout: "pipe", stderr: "ignore" },
  );
  const out = await new Response(client.stdout).text();
  await client.exited;
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
  return pem ? new X509Certificate(pem).fingerprint256 : "none";
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
