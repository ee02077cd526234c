import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The generic webhook's signature: X-Aviary-Signature: sha256=<hex HMAC-SHA256 over
 * "<X-Aviary-Timestamp>.<raw body>"> with the shared key. Signing the timestamp with the
 * body lets a receiver refuse old replays as well as forgeries.
 */
export const SIGNATURE_HEADER = "x-aviary-signature";
export const TIMESTAMP_HEADER = "x-aviary-timestamp";
export const DELIVERY_HEADER = "x-aviary-delivery";

export function sign(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verify(key: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(sign(key, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
