import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * What `aviary version` reports. The same relative paths hold from src/cli (tsx, a
 * checkout) and dist/cli (the package and the image): package.json two levels up, and the
 * build's record of its commit (dist/build-info.json, written by `npm run build`) one up.
 */
export interface VersionInfo {
  version: string;
  /** The git commit the code was built from; undefined when nobody recorded it. */
  commit: string | undefined;
  node: string;
}

export function versionInfo(env: NodeJS.ProcessEnv = process.env): VersionInfo {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return {
    version: pkg.version,
    commit: nonEmpty(env.AVIARY_GIT_COMMIT) ?? buildCommit() ?? checkoutCommit(),
    node: process.version,
  };
}

export function formatVersion(info: VersionInfo): string {
  return (
    `aviary ${info.version}\n` + `commit ${info.commit ?? "unknown"}\n` + `node   ${info.node}\n`
  );
}

function buildCommit(): string | undefined {
  try {
    const info = JSON.parse(
      readFileSync(new URL("../build-info.json", import.meta.url), "utf8"),
    ) as { commit?: unknown };
    return typeof info.commit === "string" ? nonEmpty(info.commit) : undefined;
  } catch {
    return undefined;
  }
}

/** Run from a checkout (no build): ask git, quietly; outside a repository there is none. */
function checkoutCommit(): string | undefined {
  if (!import.meta.url.endsWith(".ts")) return undefined;
  try {
    const out = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: new URL(".", import.meta.url),
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf8",
    });
    return nonEmpty(out.trim());
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
