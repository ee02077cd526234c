import type { IncomingMessage } from "node:http";

/** What every dashboard answer carries: no framing, no sniffing, scripts only from here. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || address.startsWith("127.");
}

/**
 * Why a request is refused, if it is. Host must name this server (a loopback name when
 * bound to loopback), so a page on another site that rebinds its DNS name to 127.0.0.1
 * reads nothing. A POST must come from this origin: Origin equal to http://<Host>, and
 * JSON, which browsers send cross-site only after a preflight this server refuses.
 */
export function requestRefusal(
  req: Pick<IncomingMessage, "method" | "headers">,
  address: string,
  port: number,
): { status: number; message: string } | undefined {
  const host = req.headers.host ?? "";
  const hostname = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  // Bound to every address (in a cluster, behind a Service): any name reaches it.
  const wildcard = address === "0.0.0.0" || address === "::";
  const nameOk = isLoopback(address) ? isLoopback(hostname) : hostname === address;
  if (!wildcard && (!nameOk || !host.endsWith(`:${String(port)}`)))
    return { status: 421, message: `this dashboard does not serve host ${host}` };
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  const origin = req.headers.origin;
  if (origin !== `http://${host}`)
    return {
      status: 403,
      message: `cross-origin request refused: Origin ${origin ?? "(none)"} is not http://${host}`,
    };
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin")
    return { status: 403, message: `cross-site request refused (Sec-Fetch-Site: ${site})` };
  if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
    return { status: 415, message: "commands are JSON: Content-Type must be application/json" };
  return undefined;
}

const MAX_BODY = 4096;

/** A small request body (a command), refused past MAX_BODY. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
      }
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}
