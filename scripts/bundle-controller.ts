// Part of `npm run build`: bundles the CLI (and so the controller) into one minified file,
// dist/cli/main.bundle.js (or <dir>/cli/ for the directory given), which the image's
// ENTRYPOINT runs. One module instead of ~1,500 (client-node's generated API alone is
// hundreds) is about 40 MB less RSS at start: each loaded module keeps its source and
// metadata in the heap. It sits beside main.js, so its relative paths (package.json,
// build-info.json, dist/web) resolve as main.js's do.
import { readFileSync, statSync } from "node:fs";
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
// A module's source stays resident for as long as its functions live. Node hands V8 an
// all-ASCII source as one byte per character, and any other source, even one `µ` (esbuild
// leaves them in regular expressions), as two: measured, 4 MB more for the controller's life.
const source = readFileSync(outfile);
const at = source.findIndex((byte) => byte > 0x7f);
if (at !== -1)
  throw new Error(
    `${outfile}: a non-ASCII byte at offset ${String(at)}, after ${JSON.stringify(source.subarray(Math.max(0, at - 40), at).toString("latin1"))}; ` +
      "write the character as a \\u escape in the source",
  );
console.error(`${outfile}: ${(statSync(outfile).size / 2 ** 20).toFixed(1)} MiB`);
