import { CoreV1Api, KubernetesObjectApi, Watch, type KubeConfig } from "@kubernetes/client-node";

/**
 * Proof that a compaction took effect for watchers: a watch of ConfigMaps resumed from a
 * resourceVersion read before the compaction. The API server answers 410 Gone (an ERROR
 * event with code 410, or HTTP 410) once that revision is gone from etcd and from its
 * watch cache.
 */
export async function currentResourceVersion(kc: KubeConfig, namespace: string): Promise<string> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace });
  return list.metadata?.resourceVersion ?? "0";
}

/** A write, so the revision moves past one just read. */
export async function touch(kc: KubeConfig, namespace: string): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kc).create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { generateName: "chaos-touch-", namespace },
    data: { at: new Date().toISOString() },
  });
}

/** Resolves true when a watch from `resourceVersion` is refused with 410 Gone. */
export async function watchIsGone(
  kc: KubeConfig,
  namespace: string,
  resourceVersion: string,
  timeoutMs = 5_000,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let settled = false;
    let abort: AbortController | undefined;
    const finish = (gone: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort?.abort();
      resolve(gone);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    new Watch(kc)
      .watch(
        `/api/v1/namespaces/${namespace}/configmaps`,
        { resourceVersion, allowWatchBookmarks: false },
        (phase: string, object: { code?: number }) => {
          if (phase === "ERROR") finish(object.code === 410);
        },
        (error: { statusCode?: number } | null) => finish(error?.statusCode === 410),
      )
      .then(
        (controller) => {
          abort = controller;
          if (settled) controller.abort();
        },
        () => finish(false),
      );
  });
}
