import {
  ENV_KUBECONFIG,
  ENV_PROM_TARGETS_FILE,
  ENV_PROMETHEUS_URL,
  ENV_RUN_DIR,
} from "../harness/env.ts";
import { startTestEnv, type TestEnv } from "../harness/testenv.ts";

/**
 * Starts one cluster and one Prometheus for the whole e2e run (node --test-global-setup)
 * and hands their coordinates to the test files through environment variables.
 */
let env: TestEnv | undefined;

export async function globalSetup(): Promise<void> {
  env = await startTestEnv({ tieToThisProcess: true, log: (line) => console.log(`# ${line}`) });
  process.env[ENV_KUBECONFIG] = env.kubeconfigPath;
  process.env[ENV_PROMETHEUS_URL] = env.prometheusUrl;
  process.env[ENV_PROM_TARGETS_FILE] = env.prometheusTargetsFile;
  process.env[ENV_RUN_DIR] = env.runDir;
}

export async function globalTeardown(): Promise<void> {
  await env?.stop();
}
