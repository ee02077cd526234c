import { test } from "node:test";
import assert from "node:assert/strict";
import { watchedNamespaces } from "../main.ts";
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
