// Runs the gateway as a real process (source or compiled binary) and waits for its listeners.
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");

/** The command that runs Portico from source: the same Bun that runs the tests. */
export const SOURCE_COMMAND = [process.execPath, join(ROOT, "src", "main.ts")];

export type PorticoProcess = {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  proxyUrl: string;
  adminUrl: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Waits for the process to exit on its own (after a signal already sent). */
  exited(): Promise<number>;
};

type SpawnOptions = {
  cwd?: string;
  env?: Record<string, string>;
  /** How long to wait for the listening lines (emulated binaries start slowly); 15 s by default. */
  startTimeoutMs?: number;
};

/** A clean environment: only PATH and HOME leak in, so the host's PORTICO_* settings cannot. */
function spawn(command: string[], args: string[], options: SpawnOptions) {
  return Bun.spawn([...command, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Starts `command args…` and resolves once both "listening on" lines are printed (or it exits). */
export async function startPortico(
  command: string[],
  args: string[],
  options: SpawnOptions = {},
): Promise<PorticoProcess> {
  const proc = spawn(command, args, options);
  let text = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const reader = stream.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      text += decoder.decode(chunk.value, { stream: true });
  };
  const collecting = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  let proxyUrl: string | undefined;
  let adminUrl: string | undefined;
  while (Date.now() < deadline && (!proxyUrl || !adminUrl)) {
    proxyUrl = /proxy listening on (\S+)/.exec(text)?.[1];
    adminUrl = /admin API listening on (\S+)/.exec(text)?.[1];
    if (proc.exitCode !== null) break;
    await Bun.sleep(20);
  }
  if (!proxyUrl || !adminUrl) {
    proc.kill("SIGKILL");
    throw new Error(`portico did not start:\n${text}`);
  }
  return {
    proc,
    proxyUrl,
    adminUrl,
    output: () => text,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      await collecting;
      return code;
    },
    async exited() {
      const code = await proc.exited;
      await collecting;
      return code;
    },
  };
}

/** Runs a command to completion and returns its exit code and output. */
export async function runPortico(
  command: string[],
  args: string[],
  options: SpawnOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawn(command, args, options);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
