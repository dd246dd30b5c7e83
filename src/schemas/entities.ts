// Every entity by Kong's DAO name, as stored and rendered. The one type-level list of entities: the store's
// definitions (store/entities/), the admin generators and the snapshot's load list are all keyed by it.
import type { CaCertificate, Certificate, Sni } from "./certificates.ts";
import type { Consumer } from "./consumers.ts";
import type { Acl, BasicAuthCredential, JwtSecret, KeyAuthCredential } from "./credentials.ts";
import type { Plugin } from "./plugins.ts";
import type { Route } from "./routes.ts";
import type { Service } from "./services.ts";
import type { Target } from "./targets.ts";
import type { Upstream } from "./upstreams.ts";

export type EntityMap = {
  services: Service;
  routes: Route;
  consumers: Consumer;
  plugins: Plugin;
  keyauth_credentials: KeyAuthCredential;
  basicauth_credentials: BasicAuthCredential;
  jwt_secrets: JwtSecret;
  acls: Acl;
  upstreams: Upstream;
  targets: Target;
  certificates: Certificate;
  snis: Sni;
  ca_certificates: CaCertificate;
};

export type EntityName = keyof EntityMap;
