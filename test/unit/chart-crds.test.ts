import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CHART_CRDS_DIR, CRDS_DIR } from "../../src/api/crd/generate.ts";

test("the chart's crds/ holds the same files as crds/, byte for byte (npm run gen:crds writes both)", () => {
  const files = readdirSync(CRDS_DIR).sort();
  assert.ok(files.length > 0, "crds/ is empty");
  assert.deepEqual(readdirSync(CHART_CRDS_DIR).sort(), files);
  for (const file of files) {
    const a = readFileSync(join(CRDS_DIR, file));
    const b = readFileSync(join(CHART_CRDS_DIR, file));
    assert.ok(
      a.equals(b),
      `charts/aviary/crds/${file} differs from crds/${file}: run npm run gen:crds`,
    );
  }
});
