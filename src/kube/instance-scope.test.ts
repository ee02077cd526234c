import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { instanceScope, parseSelector } from "./instance-scope.ts";

describe("instance scope", () => {
  test("without an instance id, only Rollouts no instance claims", () => {
    const scope = instanceScope(undefined, undefined);
    assert.equal(scope.selector, "!aviary.dev/instance-id");
    assert.equal(scope.includes({ app: "a" }), true);
    assert.equal(scope.includes(undefined), true);
    assert.equal(scope.includes({ "aviary.dev/instance-id": "team-a" }), false);
  });

  test("with an instance id, only Rollouts labelled with it, and the selector too", () => {
    const scope = instanceScope("team-a", "tier in (web, api),env!=dev");
    assert.equal(scope.selector, "tier in (web, api),env!=dev,aviary.dev/instance-id=team-a");
    const own = { "aviary.dev/instance-id": "team-a", tier: "web" };
    assert.equal(scope.includes(own), true);
    assert.equal(scope.includes({ ...own, env: "dev" }), false);
    assert.equal(scope.includes({ ...own, tier: "batch" }), false);
    assert.equal(scope.includes({ ...own, "aviary.dev/instance-id": "team-b" }), false);
    assert.equal(scope.includes({ tier: "web" }), false);
  });

  test("every form of requirement parses", () => {
    assert.deepEqual(parseSelector("a=1, b==2,c!=3,d,!e,f notin (x,y)"), [
      { op: "in", key: "a", values: ["1"] },
      { op: "in", key: "b", values: ["2"] },
      { op: "notin", key: "c", values: ["3"] },
      { op: "exists", key: "d" },
      { op: "absent", key: "e" },
      { op: "notin", key: "f", values: ["x", "y"] },
    ]);
  });

  test("malformed input is refused with a sentence", () => {
    assert.throws(() => instanceScope("Team A", undefined), /not a label value/);
    assert.throws(() => instanceScope(undefined, "a=(b"), /not a label selector requirement/);
  });
});
