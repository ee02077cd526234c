import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiException } from "@kubernetes/client-node";
import { describeApiError, isNotFoundNamed } from "./api-errors.ts";

const notFound = (details: object): ApiException<string> =>
  new ApiException(
    404,
    "Unknown API Status Code!",
    JSON.stringify({ kind: "Status", status: "Failure", reason: "NotFound", details, code: 404 }),
    {},
  );

test("a 404 is about the object only when it names it", () => {
  const gone = notFound({ name: "api", group: "aviary.dev", kind: "rollouts" });
  assert.equal(isNotFoundNamed(gone, "api"), true);
  assert.equal(isNotFoundNamed(gone, "web"), false);
  // What a CRD without the status subresource answers: no name.
  assert.equal(isNotFoundNamed(notFound({}), "api"), false);
  assert.equal(isNotFoundNamed(new ApiException(409, "Conflict", "{}", {}), "api"), false);
  assert.equal(isNotFoundNamed(new ApiException(404, "x", "not json", {}), "api"), false);
});

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
