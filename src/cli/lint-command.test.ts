import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "../..");

function aviary(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: REPO,
    encoding: "utf8",
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("aviary lint", () => {
  test("examples/ (Rollouts and mesh-only files) is clean: exit 0", () => {
    const result = aviary("lint", "examples/");
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^\d+ files checked: no problems$/m);
  });

  test("a mesh-only file is normal input", () => {
    const result = aviary("lint", "examples/istio-canary-mesh.yaml");
    assert.equal(result.code, 0, result.stdout);
  });

  test("warnings only: exit 2, with --strict exit 1 and the findings reported as errors", () => {
    const warned = aviary("lint", "test/lint-corpus/route-timeouts");
    assert.equal(warned.code, 2);
    assert.match(
      warned.stdout,
      /^test\/lint-corpus\/route-timeouts\/mesh\.yaml:10: warning \[route-timeout-too-long\] route "long" of VirtualService web has timeout 30s, longer than 15s$/m,
    );
    assert.match(warned.stdout, /^ {4}fix: /m);
    const strict = aviary("lint", "--strict", "test/lint-corpus/route-timeouts");
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /mesh\.yaml:10: error \[route-timeout-too-long\]/);
  });

  test("--max-timeout moves the limit", () => {
    const result = aviary(
      "lint",
      "--max-timeout",
      "2m",
      "-o",
      "json",
      "test/lint-corpus/route-timeouts",
    );
    const { findings } = JSON.parse(result.stdout) as {
      findings: { rule: string; line: number }[];
    };
    const tooLong = findings.filter((f) => f.rule === "route-timeout-too-long").map((f) => f.line);
    assert.deepEqual(tooLong, [13]); // only 0s, which turns the timeout off
  });

  test("errors: exit 1; -o json carries file, line, rule, severity, message and fix", () => {
    const result = aviary("lint", "-o", "json", "test/lint-corpus/seed-subsets");
    assert.equal(result.code, 1);
    const { findings } = JSON.parse(result.stdout) as { findings: Record<string, unknown>[] };
    assert.deepEqual(findings[1], {
      rule: "selector-unmatched",
      severity: "error",
      file: "test/lint-corpus/seed-subsets/all.yaml",
      line: 55,
      message:
        "subset v2 of DestinationRule api-dr selects version=v2, which the pods of Rollout api do not carry",
      fix: "Drop the label (Aviary adds the pod-template hash) or add it to the Rollout's pod template.",
    });
  });

  test("a path that does not exist is an error that names it", () => {
    const result = aviary("lint", "no/such/dir");
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /^no\/such\/dir:1: error \[manifest-unreadable\] no\/such\/dir cannot be read: no such file or directory$/m,
    );
  });
});
