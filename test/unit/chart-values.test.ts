import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "../harness/testenv.ts";

const CHART = join(REPO_ROOT, "charts/aviary");

/** Dotted paths of the values that hold a value (scalars, lists, empty maps). */
function leaves(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([key, child]) => leaves(child, prefix === "" ? key : `${prefix}.${key}`));
}

test("the chart README's values table lists every key of values.yaml", () => {
  const values = parse(readFileSync(join(CHART, "values.yaml"), "utf8")) as unknown;
  const readme = readFileSync(join(CHART, "README.md"), "utf8");
  const missing = leaves(values).filter((key) => !readme.includes(`| \`${key}\``));
  assert.deepEqual(missing, [], "add these keys to charts/aviary/README.md");
});

test("values.schema.json knows every key of values.yaml", () => {
  const values = parse(readFileSync(join(CHART, "values.yaml"), "utf8")) as unknown;
  const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as unknown;
  type Node = { properties?: Record<string, Node> };
  const unknownKeys = leaves(values).filter((key) => {
    let node = schema as Node | undefined;
    for (const part of key.split(".")) {
      if (node?.properties === undefined) return false; // a free-form map below here
      node = node.properties[part];
      if (node === undefined) return true;
    }
    return false;
  });
  assert.deepEqual(unknownKeys, []);
});
