import { execFile } from "node:child_process";
import { chmodSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./testenv.ts";

/**
 * The layout the top-level Dockerfile's final stage holds (production dependencies from
 * `npm ci --omit=dev`, package.json, bin/ and the compiled dist/), built in a directory
 * without an image engine, and what that Dockerfile says about running it.
 */

const run = promisify(execFile);

export interface ImageRecipe {
  workdir: string;
  entrypoint: string[];
  /** "uid:gid" of the USER line. */
  user: string;
  /** The final stage's COPY destinations, relative to the workdir. */
  copies: string[];
  /** The final stage's ENV (`ENV KEY=value ...` or `ENV KEY value`). */
  env: Record<string, string>;
}

/** Reads the final stage of the Dockerfile: WORKDIR, USER, ENV, ENTRYPOINT (exec form) and COPYs. */
export function imageRecipe(dockerfile = join(REPO_ROOT, "Dockerfile")): ImageRecipe {
  // Comments go first: Docker drops them even inside an instruction continued with "\".
  const lines = readFileSync(dockerfile, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => !l.startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const final = lines.slice(lastFrom + 1);
  const arg = (keyword: string): string | undefined =>
    final
      .filter((l) => l.toUpperCase().startsWith(`${keyword} `))
      .map((l) => l.slice(keyword.length + 1).trim())
      .at(-1);
  const entrypoint = JSON.parse(arg("ENTRYPOINT") ?? "null") as unknown;
  if (!Array.isArray(entrypoint) || !entrypoint.every((x) => typeof x === "string"))
    throw new Error("the Dockerfile's final stage needs an exec-form ENTRYPOINT");
  const copies = final
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => (l.split(/\s+/).at(-1) ?? "").replace(/^\.\//, "").replace(/\/$/, ""));
  const env: Record<string, string> = {};
  for (const line of final.filter((l) => /^ENV\s/i.test(l))) {
    const rest = line.slice(4).trim();
    const pairs = rest.includes("=")
      ? [...rest.matchAll(/(\w+)=("[^"]*"|\S*)/g)].map((m) => [m[1] ?? "", m[2] ?? ""])
      : [[rest.split(/\s+/)[0] ?? "", rest.split(/\s+/).slice(1).join(" ")]];
    for (const [key, value] of pairs) env[key ?? ""] = (value ?? "").replace(/^"|"$/g, "");
  }
  return {
    env,
    workdir: arg("WORKDIR") ?? "/",
    entrypoint,
    user: arg("USER") ?? "root",
    copies: copies.map((c) => (c === "" || c === "." ? "." : c)),
  };
}

export interface ProductionLayout {
  dir: string;
  /** Installed production packages (npm ls --omit=dev --all), and their size on disk. */
  dependencies: number;
  dependencyBytes: number;
  distBytes: number;
}

/** What each COPY of the final stage puts in place, built here. */
const PARTS = ["node_modules", ".", "bin", "dist"] as const;

export async function buildProductionLayout(dir: string): Promise<ProductionLayout> {
  cpSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  cpSync(join(REPO_ROOT, "package-lock.json"), join(dir, "package-lock.json"));
  cpSync(join(REPO_ROOT, "bin"), join(dir, "bin"), { recursive: true });
  await run(
    "npm",
    ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
  );
  const tsc = join(REPO_ROOT, "node_modules/.bin/tsc");
  await run(tsc, ["-p", join(REPO_ROOT, "tsconfig.build.json"), "--outDir", join(dir, "dist")]);
  for (const script of ["scripts/build-info.ts", "scripts/bundle-controller.ts"])
    await run(process.execPath, [join(REPO_ROOT, script), join(dir, "dist")], { cwd: REPO_ROOT });
  const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const packages = new Set(stdout.split("\n").filter((l) => l.includes("node_modules")));
  return {
    dir,
    dependencies: packages.size,
    dependencyBytes: bytesUnder(join(dir, "node_modules")),
    distBytes: bytesUnder(join(dir, "dist")),
  };
}

/** The final stage's COPY destinations this builder knows how to lay out. */
export const LAID_OUT: readonly string[] = PARTS;

/** Read-only for everyone, as readOnlyRootFilesystem and a non-owner UID make it. */
export function makeReadOnly(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path)) makeReadOnly(join(path, entry));
    chmodSync(path, 0o555);
  } else chmodSync(path, (stat.mode & 0o111) !== 0 ? 0o555 : 0o444);
}

export function makeWritable(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, stat.isDirectory() ? 0o755 : 0o644);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

function bytesUnder(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += bytesUnder(join(path, entry));
  return total;
}

/**
 * The devDependencies found in `modules` that no installed production package asks for.
 * A devDependency may still arrive as a production package's own dependency (client-node
 * depends on @types/node): those are allowed.
 */
export function strayDevDependencies(modules: string): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const wanted = new Set<string>();
  for (const entry of readdirSync(modules, { recursive: true, encoding: "utf8" })) {
    if (!entry.endsWith("package.json") || entry.split("node_modules").length > 3) continue;
    const meta = JSON.parse(readFileSync(join(modules, entry), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(meta.dependencies ?? {})) wanted.add(name);
  }
  return Object.keys(pkg.devDependencies).filter(
    (name) => existsSync(join(modules, name)) && !wanted.has(name),
  );
}
