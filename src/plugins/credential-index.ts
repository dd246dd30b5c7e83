// In-memory lookups for the authentication plugins, built with every snapshot: a request never queries the
// database, and a revoked credential disappears with the next snapshot (same latency as any config change).
import type { Consumer } from "../schemas/consumers.ts";
import type { Acl, BasicAuthCredential, JwtSecret, KeyAuthCredential } from "../schemas/credentials.ts";
import type { ConsumerIdentity, CredentialIdentity } from "./contract.ts";

export type CredentialInput = {
  consumers: readonly Consumer[];
  keyauth_credentials: readonly KeyAuthCredential[];
  basicauth_credentials: readonly BasicAuthCredential[];
  jwt_secrets: readonly JwtSecret[];
  acls: readonly Acl[];
};

export type KeyEntry = {
  id: string;
  consumerId: string;
  expiresAt: number | null;
  /** The identity key-auth publishes, built once per snapshot rather than per request. */
  credential: CredentialIdentity;
  /** The key's consumer, found once per snapshot (undefined: not in this snapshot). */
  consumer: ConsumerIdentity | undefined;
};

export class CredentialIndex {
  readonly #consumers = new Map<string, ConsumerIdentity>();
  readonly #consumersByUsername = new Map<string, ConsumerIdentity>();
  readonly #keys = new Map<string, KeyEntry>();
  readonly #basic = new Map<string, BasicAuthCredential>();
  readonly #jwt = new Map<string, JwtSecret>();
  readonly #groups = new Map<string, string[]>();
  /** X-Consumer-Groups values, joined once per snapshot. */
  readonly #groupsHeader = new Map<string, string>();

  constructor(input: CredentialInput) {
    for (const c of input.consumers) {
      const identity = { id: c.id, username: c.username, custom_id: c.custom_id };
      this.#consumers.set(c.id, identity);
      if (c.username !== null) this.#consumersByUsername.set(c.username, identity);
    }
    for (const k of input.keyauth_credentials)
      this.#keys.set(k.key, {
        id: k.id,
        consumerId: k.consumer.id,
        expiresAt: k.ttl ? (k.created_at + k.ttl) * 1000 : null,
        credential: { id: k.id, identifier: k.id, consumerId: k.consumer.id },
        consumer: this.#consumers.get(k.consumer.id),
      });
    for (const b of input.basicauth_credentials) this.#basic.set(b.username, b);
    for (const j of input.jwt_secrets) this.#jwt.set(j.key, j);
    for (const a of input.acls) {
      const list = this.#groups.get(a.consumer.id) ?? [];
      list.push(a.group);
      this.#groups.set(a.consumer.id, list);
    }
    for (const [consumerId, list] of this.#groups) this.#groupsHeader.set(consumerId, list.join(", "));
  }

  static readonly EMPTY = new CredentialIndex({
    consumers: [],
    keyauth_credentials: [],
    basicauth_credentials: [],
    jwt_secrets: [],
    acls: [],
  });

  consumer(id: string): ConsumerIdentity | undefined {
    return this.#consumers.get(id);
  }

  /** Kong's `anonymous` may name a consumer by id or by username. */
  consumerByIdOrUsername(value: string): ConsumerIdentity | undefined {
    return this.#consumers.get(value) ?? this.#consumersByUsername.get(value);
  }

  /** A key that exists and has not expired (the clock is read only for keys with a ttl). */
  key(key: string, now?: number): KeyEntry | undefined {
    const entry = this.#keys.get(key);
    if (!entry || (entry.expiresAt !== null && entry.expiresAt <= (now ?? Date.now()))) return undefined;
    return entry;
  }

  basicAuth(username: string): BasicAuthCredential | undefined {
    return this.#basic.get(username);
  }

  jwtSecret(key: string): JwtSecret | undefined {
    return this.#jwt.get(key);
  }

  groups(consumerId: string): readonly string[] {
    return this.#groups.get(consumerId) ?? [];
  }

  /** The consumer's groups as one header value, or undefined when it has none. */
  groupsHeader(consumerId: string): string | undefined {
    return this.#groupsHeader.get(consumerId);
  }
}
