// A request to a balanced service: its hash input is computed once, each try picks an address (retries
// another one), and each try's outcome is handed back to the balancer (connection counts, latency, passive
// health checks).
import type { Balancer, Peer } from "./balancer/balancer.ts";
import { type HashInputs, hashInput } from "./balancer/hash-key.ts";
import type { ForwardCall, ForwardOutcome, PeerSwitch } from "./forward.ts";
import type { UpstreamTarget } from "./snapshot.ts";

export const NO_PEER = "failure to get a peer from the ring-balancer";

export class BalancedRequest implements PeerSwitch {
  readonly balancer: Balancer;
  peer: Peer;
  /** Set-Cookie for a hashing cookie generated for this request (Kong's hash_on=cookie). */
  readonly setCookie: string | null;
  readonly #key: string;
  readonly #upstream: UpstreamTarget;
  /** Host header per try (null: the route preserves the client's). */
  readonly #preserveHost: boolean;
  readonly #pathAndQuery: string;
  #tried: Set<Peer> | null = null;
  #startedAt = 0;

  private constructor(
    balancer: Balancer,
    peer: Peer,
    key: string,
    setCookie: string | null,
    upstream: UpstreamTarget,
    preserveHost: boolean,
    pathAndQuery: string,
  ) {
    this.balancer = balancer;
    this.peer = peer;
    this.#key = key;
    this.setCookie = setCookie;
    this.#upstream = upstream;
    this.#preserveHost = preserveHost;
    this.#pathAndQuery = pathAndQuery;
    this.#startedAt = performance.now();
  }

  /** The first try's address, or null when the balancer has no healthy one. */
  static start(
    upstream: UpstreamTarget,
    balancer: Balancer,
    inputs: HashInputs,
    preserveHost: boolean,
    pathAndQuery: string,
  ): BalancedRequest | null {
    const hash = balancer.hash === null ? null : hashInput(balancer.hash, inputs);
    const peer = balancer.pick(hash?.key ?? "", null);
    if (peer === null) return null;
    return new BalancedRequest(
      balancer,
      peer,
      hash?.key ?? "",
      hash?.setCookie ?? null,
      upstream,
      preserveHost,
      pathAndQuery,
    );
  }

  /** The Host header for the current address (the upstream's host_header, else the target's host). */
  get hostHeader(): string {
    return (
      this.#upstream.balancedHostHeader ??
      (this.#upstream.scheme === "https" ? this.peer.hostHttps : this.peer.hostHttp)
    );
  }

  url(websocket = false): string {
    const scheme = websocket ? (this.#upstream.scheme === "https" ? "wss" : "ws") : this.#upstream.scheme;
    return `${scheme}://${this.peer.ipPort}${this.#pathAndQuery}`;
  }

  after(outcome: ForwardOutcome): void {
    if (outcome.ok) this.finish(outcome.response.status, null);
    else
      this.finish(
        null,
        outcome.failure === "timeout" || outcome.failure === "refused" ? outcome.failure : null,
      );
  }

  /** The current try ended with a status, or a connection failure or timeout (or neither: client gone). */
  finish(status: number | null, failure: "refused" | "timeout" | null): void {
    this.balancer.done(this.peer, status, failure, this.#startedAt);
  }

  next(call: ForwardCall): boolean {
    this.#tried ??= new Set();
    this.#tried.add(this.peer);
    const peer = this.balancer.pick(this.#key, this.#tried);
    if (peer === null) return false;
    this.peer = peer;
    this.#startedAt = performance.now();
    call.url = this.url();
    call.peer = peer;
    if (!this.#preserveHost) call.headers.set("host", this.hostHeader);
    return true;
  }
}
