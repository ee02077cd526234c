import type { Command } from "commander";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { CliError } from "./errors.ts";
import {
  addClusterOptions,
  connect,
  explainKubeError,
  rolloutRef,
  type ClusterFlags,
} from "./kube-client.ts";
import { readRolloutObject } from "./status-command.ts";

/**
 * `aviary set image <rollout> <container>=<image>`, as Argo Rollouts' plugin has it, for
 * people outside GitOps. Unlike steering it edits spec (a new release starts), and says so:
 * under Argo CD the change shows as drift and self-heal reverts it.
 */
export function registerSetImage(program: Command): void {
  const set = program.command("set").description("edit a Rollout's spec");
  addClusterOptions(
    set
      .command("image")
      .description(
        "set a container's image in a Rollout's pod template (edits spec: a new release starts)",
      )
      .argument("<rollout>", "name of the Rollout")
      .argument("<container=image...>", "one or more container=image pairs"),
  ).action(async (name: string, pairs: string[], flags: ClusterFlags) => {
    const wanted = pairs.map(parsePair);
    const cluster = connect(flags);
    const rollout = (await readRolloutObject(cluster, name)) as {
      spec?: { template?: { spec?: Record<string, unknown> }; workloadRef?: { name?: string } };
    };
    const podSpec = rollout.spec?.template?.spec;
    if (podSpec === undefined) {
      const ref = rollout.spec?.workloadRef?.name;
      throw new CliError(
        ref === undefined
          ? `rollout ${name} has no pod template to set an image in`
          : `rollout ${name} runs the pods of Deployment ${ref} (workloadRef): set the image on the Deployment`,
      );
    }
    const patch: object[] = [];
    for (const { container, image } of wanted) {
      const found = (["containers", "initContainers"] as const).flatMap((list) => {
        const items = Array.isArray(podSpec[list]) ? (podSpec[list] as { name?: unknown }[]) : [];
        const index = items.findIndex((c) => c.name === container);
        return index < 0 ? [] : [{ list, index }];
      })[0];
      if (found === undefined) {
        const names = (
          Array.isArray(podSpec.containers) ? (podSpec.containers as { name?: unknown }[]) : []
        )
          .map((c) => String(c.name))
          .join(", ");
        throw new CliError(
          `rollout ${name} has no container named ${container} (it has ${names || "none"})`,
        );
      }
      const path = `/spec/template/spec/${found.list}/${found.index}`;
      // The test pins the index to the name, so a concurrent edit of the list fails instead of changing another container.
      patch.push(
        { op: "test", path: `${path}/name`, value: container },
        { op: "replace", path: `${path}/image`, value: image },
      );
    }
    try {
      await cluster.objects.patchNamespacedCustomObject(
        { ...rolloutRef(cluster, name), body: patch },
        setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
      );
    } catch (error) {
      throw explainKubeError(error, cluster, { name, verb: "patch", resource: "rollouts" });
    }
    const what = wanted.map((w) => `${w.container}=${w.image}`).join(", ");
    process.stdout.write(
      `rollout ${cluster.namespace}/${name}: image set (${what}); this edits spec, so a new release starts, and Argo CD (if it manages this Rollout) sees the change as drift\n`,
    );
  });
}

function parsePair(text: string): { container: string; image: string } {
  const at = text.indexOf("=");
  const container = text.slice(0, at);
  const image = text.slice(at + 1);
  if (at <= 0 || image === "")
    throw new CliError(
      `"${text}" is not container=image: write it as api=registry.example.com/api:2.0.0`,
    );
  return { container, image };
}
