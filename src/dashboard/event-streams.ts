import type { IncomingMessage, ServerResponse } from "node:http";
import { SECURITY_HEADERS } from "./http-guards.ts";

const HEARTBEAT_MS = 15_000;

/** Sends one named server-sent event on a stream. */
export type SendEvent = (event: string, data: unknown) => void;

/** The open server-sent-event streams, each with a heartbeat, so close() can end them all. */
export class EventStreams {
  readonly #open = new Set<ServerResponse>();

  open(req: IncomingMessage, res: ServerResponse, onClose: () => void): SendEvent {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    res.write(": aviary\n\n");
    this.#open.add(res);
    const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), HEARTBEAT_MS);
    req.on("close", () => {
      clearInterval(heartbeat);
      this.#open.delete(res);
      onClose();
    });
    return (event, data) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
  }

  closeAll(): void {
    for (const res of this.#open) res.destroy();
  }
}
