// Request ids: 32 hex characters like Kong's, unique per process without a random draw per request: a random
// per-process prefix, then a counter. The counter's last 16 bits come from a table of 256 two-digit strings,
// so minting an id is two lookups and a concatenation; the rest of the counter is formatted once every
// 65,536 requests.

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function createRequestIds(): () => string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => HEX2[b]!).join("");
  let high = -1;
  let low = 0xffff;
  let prefix = "";
  return () => {
    if (++low > 0xffff) {
      low = 0;
      high++;
      // 16 random hex digits, then 12 for the counter's upper part (2^48 × 65,536 ids per process).
      prefix = random + high.toString(16).padStart(12, "0");
    }
    return prefix + HEX2[low >> 8]! + HEX2[low & 0xff]!;
  };
}
