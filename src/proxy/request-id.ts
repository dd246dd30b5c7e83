// Request ids: 32 hex characters like Kong's, unique per process without a random draw per request (a
// random per-process prefix plus a counter), so minting one costs next to nothing on the hot path.

export function createRequestIds(): () => string {
  const prefix = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  let counter = 0;
  return () => {
    counter++;
    return prefix + counter.toString(16).padStart(16, "0");
  };
}
