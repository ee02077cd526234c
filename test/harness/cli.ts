import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR, STATE_FILE } from "./env.ts";
import { isAlive, killGroups, recordedPids } from "./processes.ts";
import { startTestEnv, type TestEnvInfo } from "./testenv.ts";

/**
 * `npm run cluster:up` starts the e2e environment in the background and writes
 * .testenv/kubeconfig, .testenv/prometheus-url and .testenv/state.json;
 * `npm run cluster:down` stops everything `up` started.
 */
function readState(): TestEnvInfo | undefined {
  return existsSync(STATE_FILE)
    ? (JSON.parse(readFileSync(STATE_FILE, "utf8")) as TestEnvInfo)
    : undefined;
}

async function up(): Promise<void> {
  const previous = readState();
  if (previous && recordedPids(previous.logDir).some(isAlive)) {
    console.log(
      `A test cluster is already running (kubeconfig ${join(STATE_DIR, "kubeconfig")}); \`npm run cluster:down\` stops it.`,
    );
    return;
  }
  const env = await startTestEnv({
    tieToThisProcess: false,
    keepRunDir: true,
    log: (line) => console.log(line),
  });
  mkdirSync(STATE_DIR, { recursive: true });
  copyFileSync(env.kubeconfigPath, join(STATE_DIR, "kubeconfig"));
  writeFileSync(join(STATE_DIR, "prometheus-url"), `${env.prometheusUrl}\n`);
  const info: TestEnvInfo = {
    runDir: env.runDir,
    logDir: env.logDir,
    kubeconfigPath: env.kubeconfigPath,
    apiServerUrl: env.apiServerUrl,
    prometheusUrl: env.prometheusUrl,
    prometheusTargetsFile: env.prometheusTargetsFile,
  };
  writeFileSync(STATE_FILE, `${JSON.stringify(info, null, 2)}\n`);
  console.log(
    `kubeconfig:  ${join(STATE_DIR, "kubeconfig")}  (export KUBECONFIG=$PWD/.testenv/kubeconfig)`,
  );
  console.log(`prometheus:  ${env.prometheusUrl}  (scrape targets: ${env.prometheusTargetsFile})`);
  console.log(`logs:        ${env.logDir}`);
}

async function down(): Promise<void> {
  const state = readState();
  if (!state) {
    console.log("No test cluster recorded in .testenv/; nothing to stop.");
    return;
  }
  await killGroups(recordedPids(state.logDir));
  rmSync(state.runDir, { recursive: true, force: true });
  for (const file of ["kubeconfig", "prometheus-url", "state.json"])
    rmSync(join(STATE_DIR, file), { force: true });
  console.log("Test cluster stopped.");
}

const command = process.argv[2];
try {
  if (command === "up") await up();
  else if (command === "down") await down();
  else throw new Error(`usage: tsx test/harness/cli.ts up|down (got ${command ?? "nothing"})`);
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
