// A TCP relay the test controls, between Portico and a server (PostgreSQL): `cut()` drops every open
// connection and refuses new ones — the database is gone as far as the node can tell — and `restore()`
// lets connections through again. The machine's shared PostgreSQL itself is never stopped.
import net from "node:net";

export type TcpRelay = {
  readonly port: number;
  cut(): void;
  restore(): void;
  stop(): Promise<void>;
};

export async function startRelay(host: string, port: number): Promise<TcpRelay> {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, host);
    open.add(client);
    open.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
