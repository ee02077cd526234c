import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import ajvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import type { Log } from "sarif";

/** `aviary lint -o sarif` must be a SARIF 2.1.0 log that code scanning accepts: checked against the published schema. */
const REPO = join(import.meta.dirname, "../..");
// Both are CommonJS modules whose export is `default`; Node's ESM import gives module.exports.
const Ajv = ajvDraft04.default;
const addFormats = ajvFormats.default;
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8"),
) as object;

function lintSarif(...paths: string[]): { code: number | null; log: Log } {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "lint", "-o", "sarif", ...paths],
    { cwd: REPO, encoding: "utf8" },
  );
  return { code: run.status, log: JSON.parse(run.stdout) as Log };
}

function schemaErrors(log: unknown): string | undefined {
  // The published schema has a language pattern that is invalid under the `u` flag.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.validate(schema, log) ? undefined : JSON.stringify(ajv.errors, null, 2);
}

function validate(log: Log): void {
  assert.equal(schemaErrors(log), undefined);
}

test("SARIF output of a corpus with errors and warnings validates against the SARIF 2.1.0 schema", () => {
  const { code, log } = lintSarif(
    "test/lint-corpus/seed-subsets",
    "test/lint-corpus/retries",
    "test/lint-corpus/manifest-unreadable",
  );
  assert.equal(code, 1);
  validate(log);
  assert.equal(log.version, "2.1.0");
  const run = log.runs[0];
  assert.ok(run);
  const results = run.results ?? [];
  assert.ok(results.length >= 5);
  const rules = run.tool.driver.rules ?? [];
  for (const result of results) {
    const location = result.locations?.[0]?.physicalLocation;
    assert.match(
      location?.artifactLocation?.uri ?? "",
      /^test\/lint-corpus\/[\w-]+\/[\w-]+\.yaml$/,
    );
    assert.ok((location?.region?.startLine ?? 0) >= 1);
    assert.ok((result.message.text ?? "").length > 0);
    assert.equal(rules[result.ruleIndex ?? -1]?.id, result.ruleId);
  }
  const subset = results.find(
    (r) => r.ruleId === "selector-unmatched" && r.message.text?.includes("subset v2"),
  );
  assert.equal(subset?.locations?.[0]?.physicalLocation?.region?.startLine, 55);
  assert.equal(subset?.level, "error");

  // The validator does reject what code scanning would: a level SARIF does not define.
  const broken = structuredClone(log) as { runs: { results: { level: string }[] }[] };
  const first = broken.runs[0]?.results[0];
  assert.ok(first);
  first.level = "severe";
  assert.notEqual(schemaErrors(broken), undefined);
});

test("SARIF output of a clean tree validates too, with every rule described and no result", () => {
  const { code, log } = lintSarif("examples");
  assert.equal(code, 0);
  validate(log);
  assert.deepEqual(log.runs[0]?.results, []);
  assert.ok((log.runs[0]?.tool.driver.rules ?? []).length >= 20);
});
