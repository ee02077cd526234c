import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;

/** Runs the real CLI in a child process, as a person would. */
function aviary(...args: string[]) {
  const out = spawnSync(
    process.execPath,
    ["--import", "tsx", join(root, "src/cli/main.ts"), ...args],
    { cwd: root, encoding: "utf8" },
  );
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "aviary-cli-")), "rollout.yaml");
  writeFileSync(path, text);
  return path;
}

describe("aviary simulate", () => {
  test("--scenario errors --json reports a rollback with its reason", () => {
    const { code, stdout } = aviary(
      "simulate",
      "examples/istio-canary.yaml",
      "--scenario",
      "errors",
      "--json",
    );
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as {
      outcome: string;
      reason: string;
      timeline: unknown[];
      durationSeconds: number;
    };
    assert.equal(result.outcome, "rolledBack");
    assert.match(result.reason, /success-rate/);
    assert.ok(result.timeline.length > 0);
  });

  test("--scenario healthy --json reports success", () => {
    const { code, stdout } = aviary(
      "simulate",
      "examples/istio-canary.yaml",
      "--scenario",
      "healthy",
      "--json",
    );
    assert.equal(code, 0);
    assert.equal((JSON.parse(stdout) as { outcome: string }).outcome, "promoted");
  });

  test("the readable timeline names the steps and the outcome", () => {
    const { stdout } = aviary("simulate", "examples/istio-canary.yaml", "--scenario", "errors");
    assert.match(stdout, /canary ok%/);
    assert.match(stdout, /ROLLED BACK after/);
  });

  const bad = [
    { name: "a file that is not YAML", text: "spec: [unclosed\n  - : :", expect: /YAML/i },
    {
      name: "a YAML file that is not a Rollout",
      text: "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n",
      expect: /Rollout/,
    },
    {
      name: "a Rollout that breaks the schema",
      text: "apiVersion: aviary.dev/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {app: x}}\n  template: {metadata: {labels: {app: x}}}\n  strategy:\n    canary:\n      stableService: a\n      canaryService: b\n      steps: [{setWeight: 150}, {pause: {duration: soon}}]\n",
      expect: /steps\[0\]\.setWeight[\s\S]*steps\[1\]\.pause\.duration/,
    },
  ];
  for (const c of bad) {
    test(`${c.name}: exits non-zero with every problem and its path, no stack trace`, () => {
      const { code, stderr } = aviary("simulate", file(c.text));
      assert.notEqual(code, 0);
      assert.match(stderr, c.expect);
      assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/);
    });
  }

  test("a missing file and a bad flag are explained", () => {
    const missing = aviary("simulate", "no/such/file.yaml");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read no\/such\/file\.yaml/);
    const flag = aviary("simulate", "examples/istio-canary.yaml", "--canary-error-rate", "7");
    assert.notEqual(flag.code, 0);
    assert.match(flag.stderr, /from 0 to 1/);
  });
});
