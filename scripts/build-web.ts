import { mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

/**
 * Bundles the dashboard's page (Preact + uPlot) into dist/web/app.js and app.css with
 * esbuild, minified: the dashboard serves these two files and loads nothing from
 * elsewhere at run time (its Content-Security-Policy allows only itself).
 */
const root = resolve(import.meta.dirname, "..");
const out = join(root, "dist/web");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, "src/dashboard/web/main.ts") },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outdir: out,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
});
for (const file of ["app.js", "app.css"])
  // stderr: `npm pack --json` (which runs this through prepare) keeps stdout for its JSON.
  console.error(`dist/web/${file}: ${(statSync(join(out, file)).size / 1024).toFixed(1)} KiB`);
