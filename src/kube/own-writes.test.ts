import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { OwnWrites } from "./own-writes.ts";

const obj = (name: string, resourceVersion: string, replicas = 1) => ({
  metadata: { name, resourceVersion },
  replicas,
});

describe("OwnWrites: reads right after our own writes see them, then the cache takes over", () => {
  test("a patch result wins while the cache still holds the version it replaced", () => {
    const writes = new OwnWrites<ReturnType<typeof obj>>();
    writes.record("ns/r", "a", "1", obj("a", "2", 3));
    assert.equal(writes.read("ns/r", "a", obj("a", "1"))?.replicas, 3);
    assert.equal(writes.read("ns/r", "a", obj("a", "5", 7))?.replicas, 7, "cache moved on");
    assert.equal(writes.read("ns/r", "a", obj("a", "1"))?.replicas, 1, "entry dropped");
  });

  test("an object we created is listed before the cache has it, once", () => {
    const writes = new OwnWrites<ReturnType<typeof obj>>();
    writes.record("ns/r", "new", undefined, obj("new", "9", 2));
    const before = writes.merge("ns/r", [obj("old", "4")]);
    assert.deepEqual(before.map((o) => o.metadata.name).sort(), ["new", "old"]);
    const after = writes.merge("ns/r", [obj("old", "4"), obj("new", "9", 2)]);
    assert.deepEqual(after.map((o) => o.metadata.name).sort(), ["new", "old"]);
  });

  test("an object we deleted is gone even while the cache still holds it", () => {
    const writes = new OwnWrites<ReturnType<typeof obj>>();
    writes.record("ns/r", "a", "3", null);
    assert.deepEqual(writes.merge("ns/r", [obj("a", "3")]), []);
    assert.equal(writes.read("ns/r", "a", undefined), undefined);
  });
});
