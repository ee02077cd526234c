import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server standing in for Slack or a webhook receiver: it records every post
 * (time of arrival, headers, raw body) and answers as the test scripts it. A reply can be
 * a status with headers, or "hold" (never answer, as a receiver that hangs).
 */
export interface Post {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (undefined while held). */
  status?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type Responder = (post: Post, index: number) => Reply | "hold";

export interface Receiver {
  url: string;
  /** Every request, in order of arrival. */
  posts: Post[];
  /** Posts answered with a 2xx: what the receiver accepted. */
  accepted: () => Post[];
  /** Replaces how the next posts are answered. */
  respond: (responder: Responder) => void;
  /** Called once an answer has been written, with the post it answered. */
  onAnswered: (listener: ((post: Post) => void) | undefined) => void;
  /** Drops held requests without answering them (their sender sees the connection reset). */
  dropHeld: () => void;
  close: () => Promise<void>;
}

export const OK: Responder = () => ({ status: 200, body: "ok" });

export async function startReceiver(
  path = "/services/T000/B000/secret-token-1234",
): Promise<Receiver> {
  const posts: Post[] = [];
  let responder: Responder = OK;
  let answered: ((post: Post) => void) | undefined;
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const post: Post = {
        at: Date.now(),
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      posts.push(post);
      const reply = responder(post, posts.length - 1);
      if (reply === "hold") {
        held.add(response);
        return;
      }
      post.status = reply.status;
      response
        .writeHead(reply.status, { "content-type": "text/plain", ...reply.headers })
        .end(reply.body ?? "", () => answered?.(post));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    posts,
    accepted: () =>
      posts.filter((p) => p.status !== undefined && p.status >= 200 && p.status < 300),
    respond: (next) => (responder = next),
    onAnswered: (listener) => (answered = listener),
    dropHeld: () => {
      for (const response of held) response.socket?.destroy();
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.socket?.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Replies from a script, one per post from now on, in order; the last one repeats. */
export function script(...replies: (Reply | "hold")[]): Responder {
  let next = 0;
  return () => replies[Math.min(next++, replies.length - 1)] ?? { status: 200 };
}
