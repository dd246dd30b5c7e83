// What the bench scripts share for the processes they run: a progress line on stderr, children spawned
// quietly and remembered (so the script can end them all), waiting until a server answers, commands run to
// their end, and a process's CPU time.
import { readFileSync } from "node:fs";

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Spawns `cmd` in `cwd` (stdout dropped, stderr shown) and adds it to `children`. */
export function spawnInto(children: Bun.Subprocess[], cmd: string[], cwd: string): Bun.Subprocess {
  const child = Bun.spawn(cmd, { cwd, stdout: "ignore", stderr: "inherit" });
  children.push(child);
  return child;
}

/** Resolves once `url` answers at all (any status), polling every 25 ms for up to `attempts` tries. */
export async function waitFor(url: string, attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await Bun.sleep(25);
    }
  }
  throw new Error(`${url} never answered`);
}

/** Runs `cmd` to its end in `cwd` and returns its stdout; throws with its stderr when it fails. */
export function runToEnd(cmd: string[], cwd: string): string {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0)
    throw new Error(`${cmd.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** CPU time (utime + stime, all threads) a process has used, in clock ticks (1/100 s), from /proc. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}
