import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { REDACT_PATHS, scrub } from "./redaction.ts";

const URL = "https://hooks.slack.com/services/T0001/B0001/s3cr3tT0k3n";

describe("secrets never leak", () => {
  test("scrub removes any URL and each given secret, including a bare path", () => {
    assert.equal(scrub(`Failed to parse URL from ${URL}`), "Failed to parse URL from <url>");
    assert.equal(
      scrub("GET /services/T0001/B0001/s3cr3tT0k3n failed; key whsec-123 rejected", [
        URL,
        "whsec-123",
      ]),
      "GET [redacted] failed; key [redacted] rejected",
    );
    assert.equal(scrub("connect ECONNREFUSED 127.0.0.1:9"), "connect ECONNREFUSED 127.0.0.1:9");
  });

  test("the controller's pino redaction censors URL, key and header fields", () => {
    const lines: string[] = [];
    const log = pino(
      { redact: { paths: REDACT_PATHS, censor: "[redacted]" } },
      new Writable({ write: (chunk: Buffer, _e, done) => done(void lines.push(chunk.toString())) }),
    );
    log.warn({ url: URL, target: { webhookUrl: URL, signingKey: "k" }, headers: { a: URL } }, "x");
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes("s3cr3tT0k3n"), lines[0]);
  });
});
