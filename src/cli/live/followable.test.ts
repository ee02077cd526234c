import { test } from "node:test";
import assert from "node:assert/strict";
import { followable, notShownNote } from "./followable.ts";

test("a kind is followed only when the user may both list and watch it", async () => {
  const asked: string[] = [];
  const follow = await followable(
    (a) => {
      asked.push(
        `${a.verb ?? ""} ${a.group ?? ""}/${a.resource ?? ""} ${a.namespace ?? ""} ${a.name ?? "*"}`,
      );
      // Rollouts: both; ReplicaSets: list only; Events: neither.
      return Promise.resolve(
        a.resource === "rollouts" || (a.resource === "replicasets" && a.verb === "list"),
      );
    },
    "team-a",
    "api",
  );
  assert.deepEqual(follow, { rollouts: true, replicaSets: false, events: false });
  assert.deepEqual(asked.sort(), [
    "list /events team-a *",
    "list apps/replicasets team-a *",
    "list aviary.dev/rollouts team-a api",
    "watch /events team-a *",
    "watch apps/replicasets team-a *",
    "watch aviary.dev/rollouts team-a api",
  ]);
});

test("the note names what is left out, and there is none when nothing is", () => {
  assert.equal(notShownNote({ rollouts: true, replicaSets: true, events: true }, "a"), undefined);
  assert.equal(
    notShownNote({ rollouts: true, replicaSets: true, events: false }, "a"),
    "Events not shown: you may not list and watch them in namespace a",
  );
  assert.equal(
    notShownNote({ rollouts: true, replicaSets: false, events: false }, "a"),
    "ReplicaSets and Events not shown: you may not list and watch them in namespace a",
  );
});
