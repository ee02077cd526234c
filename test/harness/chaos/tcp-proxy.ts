import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy to one upstream (host:port) that can be switched off: while off it refuses
 * new connections (the port is closed) and has cut the open ones, as a Prometheus that
 * went away does. The upstream itself stays up for everyone else.
 */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: the address to hand out instead of the upstream's. */
  url: string;
  readonly on: boolean;
  /** Closes the port and cuts every open connection. */
  off(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(upstream: URL): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const upstreamPort = Number(upstream.port || (upstream.protocol === "https:" ? 443 : 80));
  const handle = (client: Socket) => {
    const server = connect(upstreamPort, upstream.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        server.destroy();
      });
    }
    client.pipe(server).pipe(client);
  };
  let server: Server = createServer(handle);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        if (address === null || typeof address === "string") reject(new Error("no TCP address"));
        else resolve(address.port);
      });
    });
  const port = await listen(0);
  let on = true;
  const off = async () => {
    if (!on) return;
    on = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get on() {
      return on;
    },
    off,
    resume: async () => {
      if (on) return;
      server = createServer(handle);
      await listen(port);
      on = true;
    },
    close: off,
  };
}
