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

// What the scripts do is tested in Argo CD's own Lua engine: test/e2e/argocd.test.ts.

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
