import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ProbeTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Accept any serving certificate (components with self-signed certificates). */
  insecure?: boolean;
}

/** GETs a URL and answers whether it returned 200. Never throws. */
export async function probeOk(url: string, tls: ProbeTls = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const parsed = new URL(url);
    const options = {
      method: "GET",
      timeout: 2000,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      rejectUnauthorized: tls.insecure !== true,
    };
    const request = parsed.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(parsed, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
