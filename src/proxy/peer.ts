// The connection's peer and what follows from it — whether it is a trusted proxy, the client's address, the
// scheme — worked out on first use. Bun's requestIP is a getpeername system call each time it is asked, and a
// request the gateway answers itself (a cache hit, a plugin's refusal, a 404) often needs none of this.
import type { Server } from "bun";
import { realClientIp, type TrustedIps } from "./trusted-ips.ts";

export type PeerPolicy = {
  /** Peers whose X-Forwarded-* and real-IP header are believed; null trusts nobody. */
  trustedIps: TrustedIps | null;
  /** Where a trusted proxy puts the client's address, lower-case. */
  realIpHeader: string;
};

export class Peer {
  #ip: string | undefined;
  #trusted: boolean | undefined;
  #clientIp: string | undefined;
  /**
   * What a trusted proxy would have reported, read as the request arrived: plugins and forwarding rewrite the
   * live headers before anything may ask. Null when nobody is trusted (nothing is read then).
   */
  readonly #reported: { clientIp: string | null; https: boolean } | null;

  constructor(
    private readonly request: Request,
    private readonly server: Server<unknown>,
    private readonly policy: PeerPolicy,
    /** TLS ended on this listener. */
    private readonly https: boolean,
  ) {
    const headers = request.headers;
    this.#reported =
      policy.trustedIps === null
        ? null
        : {
            clientIp: realClientIp(headers, policy.realIpHeader),
            https: headers.get("x-forwarded-proto")?.toLowerCase() === "https",
          };
  }

  /** The address of the connection's peer. */
  get peerIp(): string {
    this.#ip ??= this.server.requestIP(this.request)?.address ?? "";
    return this.#ip;
  }

  /** The peer is a trusted proxy: the X-Forwarded-* it sent are kept. */
  get trusted(): boolean {
    this.#trusted ??= this.#reported !== null && this.policy.trustedIps?.(this.peerIp) === true;
    return this.#trusted;
  }

  /** The client's address: the peer's, or the one a trusted proxy reported. */
  get clientIp(): string {
    this.#clientIp ??= this.trusted ? (this.#reported?.clientIp ?? this.peerIp) : this.peerIp;
    return this.#clientIp;
  }

  /**
   * `https` when TLS ended here or, as Kong's forwarded_proto, at a trusted load balancer that says so in
   * X-Forwarded-Proto.
   */
  get scheme(): "http" | "https" {
    if (this.https) return "https";
    return this.#reported?.https === true && this.trusted ? "https" : "http";
  }
}
