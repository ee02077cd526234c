import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { lint } from "./lint.ts";
import { loadManifests } from "./manifests.ts";
import { RULES } from "./rules/index.ts";
import { ALL_RULES } from "./lint.ts";

/**
 * The corpus of bad files (test/lint-corpus): each folder is linted as a whole, and lint
 * must report exactly the `# expect: <rule>` markers, each on its line, and nothing else.
 */
const CORPUS = join(import.meta.dirname, "../../test/lint-corpus");
const cases = readdirSync(CORPUS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

function expected(dir: string): string[] {
  return readdirSync(dir).flatMap((file) =>
    readFileSync(join(dir, file), "utf8")
      .split("\n")
      .flatMap((text, index) => {
        const match = /# expect: ([\w -]+)$/.exec(text);
        return (match?.[1] ?? "")
          .split(" ")
          .filter((rule) => rule !== "")
          .map((rule) => `${file}:${index + 1} ${rule}`);
      }),
  );
}

describe("lint corpus", () => {
  for (const name of cases) {
    test(`${name}: every expected rule on its line, and nothing else`, async () => {
      const dir = join(CORPUS, name);
      const result = lint(await loadManifests([dir]));
      const actual = result.findings.map((f) => `${relative(dir, f.file)}:${f.line} ${f.rule}`);
      assert.deepEqual(
        actual.sort(),
        expected(dir).sort(),
        JSON.stringify(result.findings, null, 2),
      );
    });
  }

  test("every rule has a case in the corpus", () => {
    const covered = new Set(
      cases.flatMap((name) => expected(join(CORPUS, name)).map((e) => e.split(" ")[1])),
    );
    const missing = ALL_RULES.map((rule) => rule.id).filter((id) => !covered.has(id));
    assert.deepEqual(missing, []);
  });

  test("every rule has a unique id, a reason and a fix", () => {
    const ids = RULES.map((rule) => rule.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const rule of ALL_RULES) {
      assert.match(rule.id, /^[a-z]+(-[a-z]+)+$/);
      assert.ok(rule.reason.length > 20 && rule.fix.length > 10, rule.id);
    }
  });
});

test("the README lists every rule id", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const missing = ALL_RULES.map((rule) => rule.id).filter((id) => !readme.includes(`\`${id}\``));
  assert.deepEqual(missing, []);
});

test("examples/ is clean: no error and no warning", async () => {
  const result = lint(await loadManifests([join(import.meta.dirname, "../../examples")]));
  assert.ok(result.files.length >= 5);
  assert.deepEqual(result.findings, []);
});
