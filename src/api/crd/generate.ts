import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allCrds, renderCrd } from "./crd.ts";

/** `npm run gen:crds`: writes crds/*.yaml from the zod schemas. */

export const CRDS_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../crds");

function main(): void {
  mkdirSync(CRDS_DIR, { recursive: true });
  for (const file of allCrds()) {
    const path = join(CRDS_DIR, file.fileName);
    writeFileSync(path, renderCrd(file));
    console.log(`wrote ${path}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
