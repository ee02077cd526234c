import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiException } from "@kubernetes/client-node";
import { describeApiError } from "./api-errors.ts";

test("a failed call reads as the API server's reason and message", () => {
  const forbidden = new ApiException(
    403,
    "Unknown API Status Code!",
    JSON.stringify({ reason: "Forbidden", message: "replicasets.apps is forbidden" }),
    {},
  );
  assert.equal(
    describeApiError(forbidden),
    "the API server answered 403 Forbidden: replicasets.apps is forbidden",
  );
  assert.equal(
    describeApiError(new ApiException(502, "Bad Gateway", "upstream connect error", {})),
    "the API server answered 502: upstream connect error",
  );
});
