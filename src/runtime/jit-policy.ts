// Release binaries start with JavaScriptCore's JIT tier-up thresholds scaled up (scripts/compile.ts,
// `--compile-jit-policy`): code that runs once while the node starts stays in the interpreter instead of
// being compiled on the JIT threads, which share the cores with the start itself. Each thread (the main one,
// every proxy worker) puts the normal policy back once it serves, so the request path is compiled as usual.
// From source (tests) the policy is the normal one already and this changes nothing.
let normal = false;

export function normalJitPolicy(): void {
  if (normal) return;
  normal = true;
  Bun.unsafe.setJITPolicy(1);
}
