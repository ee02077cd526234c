// Part of `npm run build`: bundles the CLI (and so the controller) into one minified file,
// dist/cli/main.bundle.js (or <dir>/cli/ for the directory given), which the image's
// ENTRYPOINT runs. One module instead of ~1,500 (client-node's generated API alone is
// hundreds) is about 40 MB less RSS at start: each loaded module keeps its source and
// metadata in the heap. It sits beside main.js, so its relative paths (package.json,
// build-info.json, dist/web) resolve as main.js's do.
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const outDir = process.argv[2] ?? join(root, "dist");
const outfile = join(outDir, "cli/main.bundle.js");
await build({
  entryPoints: [join(root, "src/cli/main.ts")],
  bundle: true,
  minify: true,
  // Names stay readable in stack traces and in pino's error serialisation.
  keepNames: true,
  platform: "node",
  format: "esm",
  target: "node22",
  outfile,
  // CommonJS dependencies call require() for Node's built-ins; ESM has no require.
  banner: {
    js: "import { createRequire as __aviaryRequire } from 'node:module'; const require = __aviaryRequire(import.meta.url);",
  },
  legalComments: "linked",
  logLevel: "warning",
});
console.error(`${outfile}: ${(statSync(outfile).size / 2 ** 20).toFixed(1)} MiB`);
