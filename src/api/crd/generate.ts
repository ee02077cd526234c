import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allCrds, renderCrd } from "./crd.ts";

/**
 * `npm run gen:crds`: writes crds/*.yaml from the zod schemas, and the same bytes into the
 * Helm chart's crds/ (Helm installs those before the templates and never deletes them).
 */

export const CRDS_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../crds");
export const CHART_CRDS_DIR = join(CRDS_DIR, "../charts/aviary/crds");

function main(): void {
  for (const dir of [CRDS_DIR, CHART_CRDS_DIR]) {
    mkdirSync(dir, { recursive: true });
    for (const file of allCrds()) {
      const path = join(dir, file.fileName);
      writeFileSync(path, renderCrd(file));
      console.log(`wrote ${path}`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
