import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";

/**
 * Reads every CustomResourceDefinition in some YAML files (multi-document files too).
 * loadAllYaml maps `x-kubernetes-*` keys onto the client's model; plain YAML objects
 * would lose them when the client serializes the request.
 */
export function readCrds(files: readonly string[]): V1CustomResourceDefinition[] {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    let objects: unknown[];
    try {
      objects = loadAllYaml(readFileSync(file, "utf8")) as unknown[];
    } catch (error) {
      throw new Error(`${file}: invalid YAML: ${String(error)}`, { cause: error });
    }
    for (const object of objects) {
      const crd = object as V1CustomResourceDefinition | null;
      if (crd?.kind === "CustomResourceDefinition") crds.push(crd);
    }
  }
  return crds;
}

/** The CRD files the test cluster installs: Aviary's crds/, then Istio's and Gateway API's. */
export function crdFiles(repoRoot: string, assetsDir: string): string[] {
  const aviary = join(repoRoot, "crds");
  const own = existsSync(aviary)
    ? readdirSync(aviary)
        .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
        .map((f) => join(aviary, f))
    : [];
  const assets = readdirSync(assetsDir)
    .filter((f) => f.startsWith("istio-") || f.startsWith("gateway-"))
    .map((f) => join(assetsDir, f));
  return [...own, ...assets];
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some(
    (c) => c.type === "Established" && c.status === "True",
  );
}

/** Creates the CRDs and waits until the API server serves every one of them. */
export async function installCrds(
  kc: KubeConfig,
  crds: readonly V1CustomResourceDefinition[],
  timeoutMs = 60_000,
): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await Promise.all(
    crds.map(async (crd) => {
      // Some published CRD files carry an empty status, which is not ours to write.
      delete crd.status;
      try {
        // Server-side apply, as helm and kubectl do: a create (an Update operation) would own
        // spec.versions as a whole, and helm's later apply of the very same CRD would then be
        // refused as a conflict.
        await objects.patch(
          crd,
          undefined,
          undefined,
          "aviary-testenv",
          true,
          PatchStrategy.ServerSideApply,
        );
      } catch (error) {
        throw new Error(
          `installing CRD ${crd.metadata?.name ?? "(unnamed)"} failed: ${String(error)}`,
          { cause: error },
        );
      }
    }),
  );
  const wanted = new Set(crds.map((crd) => crd.metadata?.name ?? ""));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await api.listCustomResourceDefinition();
    const pending = [...wanted].filter(
      (name) => !list.items.some((crd) => crd.metadata?.name === name && isEstablished(crd)),
    );
    if (pending.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(`CRDs not Established after ${timeoutMs / 1000}s: ${pending.join(", ")}`);
    await sleep(100);
  }
  // Established is not yet served: the first requests can still get 429 "storage is
  // (re)initializing". Wait until every resource lists, so the first test (or person) is not greeted by it.
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const crd of crds) {
    const version =
      crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]?.name ?? "v1";
    for (;;) {
      try {
        await custom.listClusterCustomObject({
          group: crd.spec.group,
          version,
          plural: crd.spec.names.plural,
          limit: 1,
        });
        break;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(
            `CRD ${crd.metadata?.name ?? ""} not served after ${timeoutMs / 1000}s: ${String(error)}`,
            { cause: error },
          );
        await sleep(100);
      }
    }
  }
}
