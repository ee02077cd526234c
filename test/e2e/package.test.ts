import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { strayDevDependencies } from "../harness/production-layout.ts";
import { REPO_ROOT } from "../harness/testenv.ts";

/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through `prepare`), then
 * `npm install -g` of the tarball into a temporary prefix, and the installed executables run
 * on plain Node 24 (no tsx, no devDependencies).
 */

const run = promisify(execFile);
let dir: string;
let prefix: string;

/** PATH with the pinned Node 24 first and nothing of the repository's node_modules. */
function userPath(): string {
  const rest = (process.env.PATH ?? "").split(delimiter).filter((p) => !p.includes("node_modules"));
  return [join(prefix, "bin"), dirname(process.execPath), ...rest].join(delimiter);
}

async function installed(
  bin: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(join(prefix, "bin", bin), [...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATH: userPath(), NODE_OPTIONS: "" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("npm pack, then npm install -g into a prefix", { timeout: 300_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "aviary-pack-"));
    prefix = join(dir, "prefix");
    const { stdout } = await run("npm", ["pack", "--pack-destination", dir, "--json"], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    assert.ok(packed);
    await run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        join(dir, packed.filename),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("kubectl-aviary version names the package version, the commit and Node 24", async () => {
    const result = await installed("kubectl-aviary", ["version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^aviary \d+\.\d+\.\d+/m);
    assert.match(result.stdout, /^commit [0-9a-f]{40}$/m, "npm pack recorded the build's commit");
    assert.match(result.stdout, /^node\s+v24\./m);
  });

  test("aviary lint checks the examples from the installed package", async () => {
    const examples = join(prefix, "lib", "node_modules", "aviary", "examples");
    const ok = await installed("aviary", ["lint", examples]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /\d+ files checked: no problems/);
    // A Rollout linted without its mesh file: the Services and VirtualService it names are
    // not in the files given, which is a warning (exit 2), not an error.
    const alone = await installed("aviary", ["lint", join(examples, "istio-canary.yaml")]);
    assert.equal(alone.code, 2, alone.stdout + alone.stderr);
    assert.match(alone.stdout, /\[service-missing\]/);
  });

  test("kubectl-aviary shows itself as `kubectl aviary`", async () => {
    const help = await installed("kubectl-aviary", ["--help"]);
    assert.match(help.stdout, /Usage: kubectl aviary/);
  });

  test("only production dependencies are installed, and no TypeScript runs", () => {
    const modules = join(prefix, "lib/node_modules/aviary/node_modules");
    assert.deepEqual(strayDevDependencies(modules), [], "no devDependency is installed");
    for (const tool of ["typescript", "tsx"])
      assert.ok(!existsSync(join(modules, tool)), `${tool} is not installed`);
    assert.ok(readdirSync(modules).includes("@kubernetes"));
    const pkg = join(prefix, "lib/node_modules/aviary");
    assert.ok(existsSync(join(pkg, "dist/cli/main.js")));
    assert.ok(!existsSync(join(pkg, "src")), "the package ships dist/, not src/");
  });
});
