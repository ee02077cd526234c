import { describe, test } from "node:test";
import assert from "node:assert/strict";
import jsonPatch from "fast-json-patch";
import { claimMap, claimPatch, readClaims } from "./claims.ts";
import type { Json, JsonPatchOp } from "./json-patch.ts";

const ANNOTATION = "aviary.dev/managed-routes";
const apply = (object: Json, ops: JsonPatchOp[]): Json =>
  jsonPatch.applyPatch(structuredClone(object), ops as jsonPatch.Operation[], true, false)
    .newDocument;

describe("claims on parts of a routing object", () => {
  const bare: Json = { metadata: { name: "api-vs", resourceVersion: "7" } };

  test("a claim adds the annotation, guarded by the resourceVersion it was read at", () => {
    const ops = claimPatch(bare, ANNOTATION, ["primary"], "api", true);
    assert.deepEqual(ops[0], { op: "test", path: "/metadata/resourceVersion", value: "7" });
    const claimed = apply(bare, ops);
    assert.deepEqual(claimMap(claimed, ANNOTATION), { primary: "api" });
    assert.deepEqual(claimPatch(claimed, ANNOTATION, ["primary"], "api", true), []);
  });

  test("two Rollouts share one VirtualService by route; a release removes only its own marks", () => {
    const one = apply(bare, claimPatch(bare, ANNOTATION, ["primary"], "api", true));
    const both = apply(one, claimPatch(one, ANNOTATION, ["admin"], "admin-api", true));
    assert.deepEqual(claimMap(both, ANNOTATION), { admin: "admin-api", primary: "api" });
    const released = apply(both, claimPatch(both, ANNOTATION, ["primary", "admin"], "api", false));
    assert.deepEqual(claimMap(released, ANNOTATION), { admin: "admin-api" });
    const empty = apply(released, claimPatch(released, ANNOTATION, ["admin"], "admin-api", false));
    assert.equal(
      (empty.metadata as { annotations?: Record<string, string> }).annotations?.[ANNOTATION],
      undefined,
    );
  });

  test("who holds each part is read back, and a mangled annotation claims nothing", () => {
    const parts = [{ key: "primary", what: 'route "primary"', field: "f" }];
    const held: Json = {
      metadata: { annotations: { [ANNOTATION]: JSON.stringify({ primary: "other" }) } },
    };
    assert.equal(readClaims(held, ANNOTATION, parts)[0]?.owner, "other");
    const mangled: Json = { metadata: { annotations: { [ANNOTATION]: "{not json" } } };
    assert.equal(readClaims(mangled, ANNOTATION, parts)[0]?.owner, undefined);
  });
});
