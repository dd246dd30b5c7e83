// The default certificate of the TLS listeners: the PEM files of --ssl-cert / --ssl-cert-key, or a
// self-signed one generated once and kept in the database (so every node and restart presents the same).
import { keyMatches, readCertificate, readPrivateKey } from "../schemas/pem.ts";
import type { CertificatePair, Store } from "../store/contract.ts";
import type { BootConfig } from "./config.ts";
import { StartupError } from "./listen.ts";
import { selfSignedCertificate } from "./self-signed.ts";

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (error) {
    throw new StartupError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}

export async function defaultCertificate(config: BootConfig, store: Store): Promise<CertificatePair> {
  if (config.sslCert === null) return store.defaultCertificate(() => selfSignedCertificate("localhost"));
  const pair = {
    cert: await readPem("--ssl-cert", config.sslCert.cert),
    key: await readPem("--ssl-cert-key", config.sslCert.key),
  };
  const cert = readCertificate(pair.cert);
  if (typeof cert === "string") throw new StartupError(`--ssl-cert ${config.sslCert.cert}: ${cert}`);
  const key = readPrivateKey(pair.key);
  if (typeof key === "string") throw new StartupError(`--ssl-cert-key ${config.sslCert.key}: ${key}`);
  if (!keyMatches(cert, key))
    throw new StartupError(`--ssl-cert-key ${config.sslCert.key}: certificate does not match key`);
  return pair;
}
