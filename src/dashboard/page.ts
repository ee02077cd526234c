import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";

/** The one HTML page; the built bundle draws everything in it. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aviary</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body><div id="app"><p>Loading…</p></div><noscript>The Aviary dashboard needs JavaScript.</noscript></body>
</html>
`;

export function defaultAssetsDir(): string {
  // src/dashboard (tsx) and dist/dashboard (built) both sit two levels under the package.
  return join(import.meta.dirname, "../../dist/web");
}

export type Assets = Map<string, { type: string; body: Buffer }>;

/** The built bundle, read once at start: a missing build is a clear error, not a 404 later. */
export function readAssets(dir: string): Assets {
  const assets: Assets = new Map();
  for (const [file, type] of [
    ["app.js", "text/javascript; charset=utf-8"],
    ["app.css", "text/css; charset=utf-8"],
  ] as const) {
    try {
      assets.set(`/assets/${file}`, { type, body: readFileSync(join(dir, file)) });
    } catch {
      throw new CliError(
        `the dashboard's page is not built (${join(dir, file)} is missing): run \`npm run build\``,
      );
    }
  }
  return assets;
}
