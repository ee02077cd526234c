import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthServerOptions {
  port: number;
  host?: string | undefined;
  registry: Registry;
  /** Ready: the controller's watches are running (as leader) or it is a healthy standby. */
  ready: () => boolean;
}

/** /healthz (the process answers), /readyz and /metrics (Prometheus text format). */
export async function startHealthServer(
  options: HealthServerOptions,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const ready = options.ready();
      response
        .writeHead(ready ? 200 : 503, { "content-type": "text/plain" })
        .end(ready ? "ready\n" : "not ready\n");
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) =>
          response.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else {
      response
        .writeHead(404, { "content-type": "text/plain" })
        .end("not found: try /healthz, /readyz or /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
