// What the bench scripts share for the processes they run: a progress line on stderr, children spawned
// quietly and remembered (so the script can end them all), and waiting until a server answers.

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
