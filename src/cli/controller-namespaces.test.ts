import { test } from "node:test";
import assert from "node:assert/strict";
import { leaseTimings, watchedNamespaces } from "../main.ts";
import { buildProgram } from "./program.ts";
import { watchScope } from "../kube/informer-set.ts";

test("flags win over the environment; --namespace joins --namespaces; duplicates go", () => {
  const env = { AVIARY_NAMESPACES: "x, y", AVIARY_NAMESPACE: "z" };
  assert.deepEqual(watchedNamespaces({}, env), ["x", "y", "z"]);
  assert.deepEqual(watchedNamespaces({ namespaces: ["a", "b"], namespace: "a" }, env), ["a", "b"]);
  assert.deepEqual(watchedNamespaces({ namespace: "c" }, {}), ["c"]);
  assert.deepEqual(watchedNamespaces({}, { AVIARY_NAMESPACES: "" }), []);
});

test("no namespace means the whole cluster", () => {
  assert.deepEqual(watchScope([]), { allNamespaces: true });
  assert.deepEqual(watchScope(["a", "", "a", "b"]), { namespaces: ["a", "b"] });
});

test("--namespaces with nothing in it is refused, naming the flag", async () => {
  const program = buildProgram();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const command of program.commands) command.exitOverride();
  await assert.rejects(
    program.parseAsync(["controller", "--namespaces", " , "], { from: "user" }),
    /--namespaces/,
  );
});

test("the leader Lease's timings come from the environment as durations", () => {
  assert.deepEqual(leaseTimings({}), {});
  assert.deepEqual(
    leaseTimings({
      AVIARY_LEASE_DURATION: "3s",
      AVIARY_LEASE_RENEW_DEADLINE: "2s",
      AVIARY_LEASE_RETRY_PERIOD: "500ms",
    }),
    { leaseMs: 3_000, renewMs: 2_000, retryMs: 500 },
  );
  assert.throws(() => leaseTimings({ AVIARY_LEASE_DURATION: "soon" }), /AVIARY_LEASE_DURATION/);
  assert.throws(
    () => leaseTimings({ AVIARY_LEASE_DURATION: "2s", AVIARY_LEASE_RENEW_DEADLINE: "2s" }),
    /shorter than AVIARY_LEASE_DURATION/,
  );
});
