import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ARGOCD_CM_FILE, renderArgocdCm } from "./customizations.ts";

/** `npm run gen:argocd`: writes deploy/argocd/argocd-cm.yaml from the Lua scripts. */
function main(): void {
  writeFileSync(ARGOCD_CM_FILE, renderArgocdCm());
  console.log(`wrote ${ARGOCD_CM_FILE}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
