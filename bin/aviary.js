#!/usr/bin/env node
// Entry for `aviary` / `kubectl aviary` (and `npx aviary` in a checkout): runs the compiled
// CLI in dist/ on plain Node, no TypeScript loader at run time. `npx` uses the Node 24 pinned
// in node_modules; a `kubectl-aviary` on PATH uses whatever `node` comes first, so say
// plainly when that one is too old (client-node needs >= 22.19).
import { existsSync } from "node:fs";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `aviary: Node ${process.versions.node} is too old; Aviary needs Node 24 (>= 22.19).\n` +
      "Run it as `npx aviary …` from the repository (it uses the pinned Node 24), or put Node 24 first on PATH.\n",
  );
  process.exit(1);
}
const cli = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "aviary: dist/ is missing. In a checkout, run `npm run build` (npm ci does it too); " +
      "`npm run aviary -- …` runs the CLI from src/ without a build.\n",
  );
  process.exit(1);
}
await import(cli.href);
