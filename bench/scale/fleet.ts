import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { RolloutStatus } from "../../src/api/rollout.ts";

/**
 * N replica-based canary Rollouts in a namespace of their own: one replica, a stable and a
 * canary ClusterIP Service each, and STEPS.length steps, so that a release walks every step.
 */
export const STEPS = [
  { setWeight: 25 },
  { pause: { duration: "1s" } },
  { setWeight: 50 },
  { pause: { duration: "1s" } },
  { setWeight: 75 },
  { pause: { duration: "1s" } },
];

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const ROLLOUTS = { group: "aviary.dev", version: "v1alpha1", plural: "rollouts" };
/** Requests in flight while creating or patching the fleet. */
const WIDTH = 16;

export class Fleet {
  readonly names: string[];
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly size: number,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.names = Array.from({ length: size }, (_, i) => `r${String(i).padStart(5, "0")}`);
  }

  async create(): Promise<void> {
    const { namespace } = this;
    await this.objects.create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
    await inParallel(this.names, WIDTH, async (name) => {
      for (const role of ["stable", "canary"])
        await this.objects.create({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: `${name}-${role}`, namespace },
          spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
        });
      await this.objects.create({
        apiVersion: "aviary.dev/v1alpha1",
        kind: "Rollout",
        metadata: { name, namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: template(name, "app:1"),
          strategy: {
            canary: {
              stableService: `${name}-stable`,
              canaryService: `${name}-canary`,
              steps: STEPS,
            },
          },
        },
      });
    });
  }

  /** A new image on every Rollout's template: one release across the fleet. */
  async bumpImages(image: string): Promise<void> {
    await inParallel(this.names, WIDTH, (name) =>
      this.custom.patchNamespacedCustomObject(
        {
          ...ROLLOUTS,
          namespace: this.namespace,
          name,
          body: { spec: { template: template(name, image) } },
        },
        MERGE,
      ),
    );
  }

  async statuses(): Promise<Map<string, RolloutStatus>> {
    const list = (await this.custom.listNamespacedCustomObject({
      ...ROLLOUTS,
      namespace: this.namespace,
    })) as { items: { metadata: { name: string }; status?: RolloutStatus }[] };
    return new Map(list.items.map((o) => [o.metadata.name, o.status ?? {}]));
  }

  /** Seconds from `since` until `done` holds for every Rollout (polled each second). */
  async secondsUntil(
    since: number,
    done: (name: string, s: RolloutStatus) => boolean,
    capMs = 20 * 60_000,
  ): Promise<number> {
    for (;;) {
      const all = await this.statuses();
      const count = this.names.filter((n) => done(n, all.get(n) ?? {})).length;
      if (count === this.size) return (Date.now() - since) / 1000;
      if (Date.now() - since > capMs)
        throw new Error(`only ${String(count)}/${String(this.size)} Rollouts got there in time`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /** Deletes the namespace and waits (up to 3 min) until it is gone, so runs do not overlap. */
  async delete(): Promise<void> {
    await this.core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
    const until = Date.now() + 3 * 60_000;
    while (Date.now() < until) {
      const gone = await this.core.readNamespace({ name: this.namespace }).then(
        () => false,
        () => true,
      );
      if (gone) return;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function template(name: string, image: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: name } },
    spec: { containers: [{ name: "app", image }] },
  };
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}
