import { POD_TEMPLATE_HASH_LABEL } from "../api/labels.ts";
import { RolloutStatus } from "../api/rollout.ts";
import type { PodView, RolloutRow } from "./wire.ts";

/**
 * Pure reading of Rollouts, ReplicaSets and pods into what the dashboard shows. Objects
 * are read loosely, as in the live view: an odd field shows as missing, never a crash.
 */

export function statusOf(rollout: unknown): RolloutStatus {
  const parsed = RolloutStatus.safeParse(obj(obj(rollout).status));
  return parsed.success ? parsed.data : {};
}

/** A release runs while the canary (preview) differs from stable and the Rollout is not Healthy. */
export function isReleasing(status: RolloutStatus): boolean {
  return (
    status.canaryHash !== undefined &&
    status.canaryHash !== status.stableHash &&
    status.phase !== "Healthy"
  );
}

function hashOf(object: unknown): string | undefined {
  return text(obj(obj(obj(object).metadata).labels)[POD_TEMPLATE_HASH_LABEL]);
}

function imagesOf(replicaSet: unknown): string[] {
  const containers = obj(obj(obj(obj(replicaSet).spec).template).spec).containers;
  return (Array.isArray(containers) ? containers : []).flatMap(
    (c: unknown) => text(obj(c).image) ?? [],
  );
}

/**
 * When the release shown started: the canary's ReplicaSet's creation while a release
 * runs (or was just aborted), else the stable one's. Undefined when neither is listed.
 */
export function releaseStart(
  status: RolloutStatus,
  replicaSets: readonly unknown[],
): string | undefined {
  const hash = status.canaryHash ?? status.stableHash;
  const rs = replicaSets.find((r) => hashOf(r) === hash);
  const created = obj(obj(rs).metadata).creationTimestamp;
  // The client's typed objects hold a Date; raw JSON a string.
  return created instanceof Date ? created.toISOString() : text(created);
}

export function rolloutRow(rollout: unknown, replicaSets: readonly unknown[]): RolloutRow {
  const metadata = obj(obj(rollout).metadata);
  const strategy = obj(obj(obj(rollout).spec).strategy);
  const status = statusOf(rollout);
  const steps = Array.isArray(obj(strategy.canary).steps)
    ? (obj(strategy.canary).steps as unknown[])
    : [];
  const releasing = isReleasing(status);
  const images = (hash: string | undefined): string[] =>
    hash === undefined ? [] : imagesOf(replicaSets.find((r) => hashOf(r) === hash));
  const step =
    steps.length === 0
      ? undefined
      : status.phase === "Healthy"
        ? `${steps.length}/${steps.length}`
        : `${Math.min((status.currentStepIndex ?? 0) + 1, steps.length)}/${steps.length}`;
  return {
    namespace: text(metadata.namespace) ?? "",
    name: text(metadata.name) ?? "",
    phase: status.phase ?? "Pending",
    strategy:
      strategy.canary !== undefined
        ? "canary"
        : strategy.blueGreen !== undefined
          ? "blueGreen"
          : "unknown",
    step,
    weight: status.canaryWeight,
    stableImages: images(status.stableHash),
    canaryImages: releasing ? images(status.canaryHash) : [],
    releaseStartedAt: releaseStart(status, replicaSets),
    releasing,
    message: status.message,
  };
}

export function podView(pod: unknown): PodView {
  const conditions = obj(obj(pod).status).conditions;
  const ready = (Array.isArray(conditions) ? conditions : []).some(
    (c: unknown) => obj(c).type === "Ready" && obj(c).status === "True",
  );
  return {
    name: text(obj(obj(pod).metadata).name) ?? "",
    hash: hashOf(pod) ?? "",
    phase: text(obj(obj(pod).status).phase) ?? "Unknown",
    ready,
  };
}

/** Rows sorted as people scan them: releases in progress first, then by namespace and name. */
export function sortRows(rows: readonly RolloutRow[]): RolloutRow[] {
  return [...rows].sort(
    (a, b) =>
      Number(b.releasing) - Number(a.releasing) ||
      a.namespace.localeCompare(b.namespace) ||
      a.name.localeCompare(b.name),
  );
}

export function obj(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
