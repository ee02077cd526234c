import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import {
  ARGOCD_CM_FILE,
  STEERING_ACTIONS,
  actionLua,
  discoveryLua,
  healthLua,
  renderArgocdCm,
} from "../../src/argocd/customizations.ts";
import { runArgoLua, type Clock, type Json } from "../../src/argocd/lua-sandbox.ts";
import { Command, RolloutStatus } from "../../src/api/rollout.ts";

const SPEC = { strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }] } } };

function rollout(status?: Record<string, Json>, generation = 2, resourceVersion = "4711"): Json {
  const object: Record<string, Json> = {
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: "shop", generation, resourceVersion },
    spec: SPEC,
  };
  if (status !== undefined) object.status = { observedGeneration: generation, ...status };
  return object;
}

const RELEASING = { stableHash: "aaa", canaryHash: "bbb", currentStepIndex: 1 };

function health(resource: Json): { status: string; message: string } {
  return runArgoLua(healthLua(), resource) as { status: string; message: string };
}

/** Action name -> disabled, as Argo CD reads discovery.lua's result. */
function enabledActions(resource: Json): string[] {
  const actions = runArgoLua(discoveryLua(), resource) as Record<string, { disabled: boolean }>;
  return Object.entries(actions)
    .filter(([, action]) => !action.disabled)
    .map(([name]) => name)
    .sort();
}

describe("Argo CD health.lua", () => {
  const cases: [string, Record<string, Json>, string][] = [
    ["Healthy", { phase: "Healthy", message: "stable aaa serves all traffic" }, "Healthy"],
    ["Progressing", { ...RELEASING, phase: "Progressing", message: "step 2/2" }, "Progressing"],
    ["Paused", { ...RELEASING, phase: "Paused", message: "waiting for promote" }, "Suspended"],
    [
      "Degraded",
      { ...RELEASING, phase: "Degraded", message: "invalid spec: spec.x: bad" },
      "Degraded",
    ],
    ["Aborted", { ...RELEASING, phase: "Aborted", message: "aborted by alice" }, "Degraded"],
  ];
  for (const [phase, status, expected] of cases) {
    test(`phase ${phase} is ${expected} in Argo CD, with the controller's message`, () => {
      assert.deepEqual(health(rollout(status)), { status: expected, message: status.message });
    });
  }

  test("a Rollout without status is Progressing, not an error", () => {
    const result = health(rollout());
    assert.equal(result.status, "Progressing");
    assert.match(result.message, /Waiting for the Aviary controller/);
  });

  test("a status without a phase is Progressing", () => {
    assert.equal(health(rollout({})).status, "Progressing");
  });

  test("a spec the controller has not observed yet is Progressing, whatever the old phase says", () => {
    const stale = rollout({ phase: "Healthy", message: "ok" }, 3) as {
      status: Record<string, Json>;
    };
    stale.status.observedGeneration = 2;
    assert.deepEqual(health(stale), {
      status: "Progressing",
      message: "Waiting for the Aviary controller to observe generation 3",
    });
    const missing = rollout({ phase: "Degraded", message: "x" }) as {
      status: Record<string, Json>;
    };
    delete missing.status.observedGeneration;
    assert.equal(health(missing).status, "Progressing");
  });
});

describe("Argo CD actions discovery.lua", () => {
  test("it lists exactly the actions that have definitions", () => {
    const listed = Object.keys(runArgoLua(discoveryLua(), rollout()) as object).sort();
    assert.deepEqual(listed, STEERING_ACTIONS.map((a) => a.action).sort());
  });

  test("no release: only pause is offered", () => {
    assert.deepEqual(enabledActions(rollout()), ["pause"]);
    assert.deepEqual(enabledActions(rollout({ phase: "Healthy", stableHash: "aaa" })), ["pause"]);
  });

  test("a running release can be promoted, promoted fully, aborted or paused", () => {
    assert.deepEqual(enabledActions(rollout({ ...RELEASING, phase: "Progressing" })), [
      "abort",
      "pause",
      "promote",
      "promote-full",
    ]);
  });

  test("an aborted release can only be retried", () => {
    const aborted = { ...RELEASING, phase: "Aborted", abortedAt: "2026-01-01T00:00:00Z" };
    assert.deepEqual(enabledActions(rollout(aborted)), ["retry"]);
    // An automatic rollback reports Degraded but is still aborted.
    assert.deepEqual(enabledActions(rollout({ ...aborted, phase: "Degraded" })), ["retry"]);
  });

  test("resume is offered only when a person paused, and then pause is not", () => {
    assert.deepEqual(
      enabledActions(rollout({ ...RELEASING, phase: "Paused", manualPause: true })),
      ["abort", "promote", "promote-full", "resume"],
    );
    // Paused at a pause step (waiting for promote) is not a person's pause.
    assert.ok(!enabledActions(rollout({ ...RELEASING, phase: "Paused" })).includes("resume"));
  });
});

describe("Argo CD action.lua per command", () => {
  const fixed: Clock = () => new Date("2026-03-04T05:06:07.890Z");

  for (const { action, command } of STEERING_ACTIONS) {
    test(`${action} writes status.command ${command} with an id, and leaves spec and metadata alone`, () => {
      const before = rollout({ ...RELEASING, phase: "Paused", lastCommandId: "older" });
      const after = runArgoLua(actionLua(command), before, fixed) as Record<string, Json>;
      const status = RolloutStatus.parse(after.status);
      assert.ok(status.command);
      assert.deepEqual(Command.parse(status.command), {
        name: command,
        id: "20260304T050607Z-argocd-4711",
        requestedAt: "2026-03-04T05:06:07Z",
        requestedBy: "argocd",
      });
      assert.notEqual(status.command.id, status.lastCommandId);
      const { status: _newStatus, ...rest } = after;
      const { status: oldStatus, ...restBefore } = before as Record<string, Json>;
      assert.deepEqual(rest, restBefore, "spec and metadata are untouched");
      assert.deepEqual(
        { ...status, command: undefined },
        { ...RolloutStatus.parse(oldStatus), command: undefined },
      );
    });
  }

  test("a Rollout without status gets a status holding only the command", () => {
    const after = runArgoLua(actionLua("pause"), rollout(), fixed) as {
      status: Record<string, Json>;
    };
    assert.deepEqual(Object.keys(after.status), ["command"]);
  });

  test("two requests get different ids: a later second, or a newer version of the object", () => {
    const object = rollout({ ...RELEASING, phase: "Paused" });
    const idOf = (resource: Json, clock: Clock): string =>
      (runArgoLua(actionLua("promote"), resource, clock) as { status: { command: { id: string } } })
        .status.command.id;
    const first = idOf(object, fixed);
    const nextSecond = idOf(object, () => new Date("2026-03-04T05:06:08Z"));
    // The first request's write bumped the resourceVersion, so a second click sees a new one.
    const nextVersion = idOf(rollout({ ...RELEASING, phase: "Paused" }, 2, "4712"), fixed);
    assert.equal(new Set([first, nextSecond, nextVersion]).size, 3);
    // The same object in the same second is one double-click: the controller runs it once.
    assert.equal(idOf(object, fixed), first);
  });
});

describe("deploy/argocd/argocd-cm.yaml", () => {
  test("the committed snippet is what the Lua files generate", () => {
    assert.ok(
      readFileSync(ARGOCD_CM_FILE, "utf8") === renderArgocdCm(),
      "stale: run npm run gen:argocd",
    );
  });

  test("it carries the health script and one action.lua per steering command under Argo CD's keys", () => {
    const cm = parse(renderArgocdCm()) as { data: Record<string, string> };
    assert.equal(cm.data["resource.customizations.health.aviary.dev_Rollout"], healthLua());
    const actions = parse(cm.data["resource.customizations.actions.aviary.dev_Rollout"] ?? "") as {
      "discovery.lua": string;
      definitions: { name: string; "action.lua": string }[];
    };
    assert.equal(actions["discovery.lua"], discoveryLua());
    assert.deepEqual(
      actions.definitions.map((d) => [d.name, d["action.lua"]]),
      STEERING_ACTIONS.map((a) => [a.action, actionLua(a.command)]),
    );
  });
});

describe("the test VM is as strict as Argo CD's sandbox", () => {
  test("the string and math libraries and os.execute are absent, as in Argo CD", () => {
    for (const script of [
      'return string.sub("abc", 1, 1)',
      "return math.floor(1.5)",
      'return os.execute("true")',
    ])
      assert.throws(() => runArgoLua(script, rollout()), /attempt to (index|call) a nil value/);
  });
});
