import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { FIELD_MANAGER, FINALIZER } from "../api/labels.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION, type Rollout } from "../api/rollout.ts";
import { isNotFound } from "./api-errors.ts";
import { namespaceOf } from "./replica-sets.ts";

const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

/**
 * Aviary's finalizer on a Rollout: added so a deleted Rollout first puts its traffic back,
 * removed once it has. A JSON Patch guarded by the list it was computed from, so a
 * finalizer someone else adds meanwhile is never dropped.
 */
export class RolloutFinalizer {
  private readonly custom: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async set(rollout: Rollout, present: boolean): Promise<void> {
    const current = rollout.metadata.finalizers;
    const has = (current ?? []).includes(FINALIZER);
    if (has === present) return;
    const next = present
      ? [...(current ?? []), FINALIZER]
      : (current ?? []).filter((f) => f !== FINALIZER);
    const body =
      current === undefined
        ? [
            // JSON Patch cannot test for an absent list: the version guards it instead.
            {
              op: "test",
              path: "/metadata/resourceVersion",
              value: rollout.metadata.resourceVersion,
            },
            { op: "add", path: "/metadata/finalizers", value: next },
          ]
        : [
            { op: "test", path: "/metadata/finalizers", value: current },
            { op: "replace", path: "/metadata/finalizers", value: next },
          ];
    try {
      await this.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: namespaceOf(rollout),
          plural: ROLLOUT_PLURAL,
          name: rollout.metadata.name,
          body,
          fieldManager: FIELD_MANAGER,
        },
        JSON_PATCH,
      );
    } catch (error) {
      // Gone already: nothing holds it any more.
      if (!present && isNotFound(error)) return;
      throw error;
    }
  }
}
