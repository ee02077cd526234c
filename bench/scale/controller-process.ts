import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../test/harness/processes.ts";
import { imageRecipe } from "../../test/harness/production-layout.ts";
import { REPO_ROOT } from "../../test/harness/testenv.ts";
import { parseMetrics, type Scrape } from "./metrics-text.ts";

/**
 * The controller as the image runs it: its own process, the Dockerfile's ENV and ENTRYPOINT
 * (read from the Dockerfile: `node [flags] dist/cli/main.bundle.js controller`) with the
 * chart's arguments, NODE_ENV and log level. Before `npm run build` there is no dist/: then
 * src/cli/main.ts runs via tsx, with the same Node flags.
 */
export interface BenchController {
  /** How it was started, for the report. */
  entry: string;
  scrape(): Promise<Scrape>;
  /** SIGTERM, as a Pod is stopped; SIGKILL if it is not gone in 10 s. */
  stop(): Promise<void>;
}

export interface StartOptions {
  kubeconfig: string;
  namespace: string;
  /** The controller's JSON log lines go here. */
  logFile: string;
  from: "dist" | "src" | "auto";
}

const DIST_MAIN = join(REPO_ROOT, "dist/cli/main.js");

export async function startBenchController(options: StartOptions): Promise<BenchController> {
  const fromDist = options.from === "dist" || (options.from === "auto" && existsSync(DIST_MAIN));
  if (fromDist && !existsSync(DIST_MAIN)) throw new Error("no dist/: run `npm run build` first");
  const port = await freePort();
  // The chart's args (charts/aviary/templates/_helpers.tpl) with watchNamespaces set; leader
  // election stays on, as the chart's default, with the Lease in the watched namespace.
  const args = [
    "controller",
    `--metrics-port=${String(port)}`,
    `--namespaces=${options.namespace}`,
    `--kubeconfig=${options.kubeconfig}`,
  ];
  const image = entrypoint();
  const command = fromDist
    ? [...image.nodeFlags, join(REPO_ROOT, image.script), ...image.args, ...args.slice(1)]
    : [...image.nodeFlags, "--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), ...args];
  const child: ChildProcess = spawn(process.execPath, command, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      // The image's ENV (imageRecipe), then the chart's.
      ...image.env,
      NODE_ENV: "production",
      NODE_OPTIONS: "",
      POD_NAME: "aviary-bench-scale",
      POD_NAMESPACE: options.namespace,
      AVIARY_LOG_LEVEL: "info",
    },
  });
  const log = createWriteStream(options.logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `http://127.0.0.1:${String(port)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone) throw new Error(`the controller exited at start; see ${options.logFile}`);
    const ready = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`the controller did not answer /healthz in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const env = Object.entries(image.env).map(([key, value]) => `${key}=${value} `);
  return {
    entry: fromDist
      ? `${env.join("")}${["node", ...image.nodeFlags, image.script, ...image.args].join(" ")} (dist/${staleness()})`
      : `${env.join("")}${["node", ...image.nodeFlags].join(" ")} --import tsx src/cli/main.ts controller (no dist/)`,
    scrape: async () => parseMetrics(await (await fetch(`${url}/metrics`)).text()),
    stop: async () => {
      if (gone) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
}

/** The Dockerfile's `ENTRYPOINT ["node", ...flags, script, ...args]`, split up. */
function entrypoint(): {
  nodeFlags: string[];
  script: string;
  args: string[];
  env: Record<string, string>;
} {
  const recipe = imageRecipe();
  const [node, ...rest] = recipe.entrypoint;
  const at = rest.findIndex((part) => !part.startsWith("-"));
  const script = rest[at];
  if (node !== "node" || script === undefined)
    throw new Error("the Dockerfile's ENTRYPOINT is no longer `node [flags] script ...`");
  return { nodeFlags: rest.slice(0, at), script, args: rest.slice(at + 1), env: recipe.env };
}

/** dist/ older than src/ measures old code: say so in the report. */
function staleness(): string {
  const built = statSync(DIST_MAIN).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return newer(path);
      return entry.name.endsWith(".ts") && statSync(path).mtimeMs > built;
    });
  return newer(join(REPO_ROOT, "src")) ? "; OLDER than src/, run `npm run build`" : "";
}
