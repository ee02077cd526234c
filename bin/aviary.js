#!/usr/bin/env node
// Entry for `npx aviary` / `kubectl aviary`: runs the TypeScript CLI through tsx's loader.
// `npx` uses the Node 24 pinned in node_modules; a `kubectl-aviary` on PATH uses whatever
// `node` comes first, so say plainly when that one is too old (client-node needs ≥ 22.19).
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `aviary: Node ${process.versions.node} is too old; Aviary needs Node 24 (>= 22.19).\n` +
      "Run it as `npx aviary …` from the repository (it uses the pinned Node 24), or put Node 24 first on PATH.\n",
  );
  process.exit(1);
}
const { register } = await import("tsx/esm/api");
register();
await import("../src/cli/main.ts");
