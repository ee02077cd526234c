import { parseRollout } from "../api/load.ts";
import type { Rollout } from "../api/rollout.ts";
import type { Problem } from "../core/plan.ts";
import { sameNamespace, type Manifest } from "./manifests.ts";

/** Everything the rules see: the objects of all the files given, and the Rollouts among them, parsed. */
export interface LintOptions {
  /** Routes with a longer timeout get a warning (the field guide's 15 s). */
  maxTimeoutMs: number;
}

export const DEFAULT_LINT_OPTIONS: LintOptions = { maxTimeoutMs: 15_000 };

export interface RolloutManifest {
  manifest: Manifest;
  rollout: Rollout;
}

export interface LintContext {
  manifests: readonly Manifest[];
  /** Rollouts that pass the schema; the others only get `rollout-invalid`. */
  rollouts: readonly RolloutManifest[];
  invalidRollouts: readonly { manifest: Manifest; problems: Problem[] }[];
  options: LintOptions;
  /** Objects of a kind (and API group) in the namespace of `near` (any namespace when undefined). */
  objects(kind: Kind, near?: string): Manifest[];
  find(kind: Kind, name: string, near: string | undefined): Manifest | undefined;
}

/** Kinds lint knows, by API group, so a Gateway API Gateway is not read as an Istio Gateway. */
export const KINDS = {
  Rollout: { kind: "Rollout", groups: ["aviary.dev"] },
  Service: { kind: "Service", groups: [""] },
  Namespace: { kind: "Namespace", groups: [""] },
  Deployment: { kind: "Deployment", groups: ["apps"] },
  VirtualService: { kind: "VirtualService", groups: ["networking.istio.io"] },
  DestinationRule: { kind: "DestinationRule", groups: ["networking.istio.io"] },
  PeerAuthentication: { kind: "PeerAuthentication", groups: ["security.istio.io"] },
  HTTPRoute: { kind: "HTTPRoute", groups: ["gateway.networking.k8s.io", "policy.linkerd.io"] },
} as const;
export type Kind = keyof typeof KINDS;

export function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
}

export function isKind(manifest: Manifest, kind: Kind): boolean {
  const known = KINDS[kind];
  return (
    manifest.kind === known.kind &&
    (known.groups as readonly string[]).includes(groupOf(manifest.apiVersion))
  );
}

export function buildContext(
  manifests: readonly Manifest[],
  options: LintOptions = DEFAULT_LINT_OPTIONS,
): LintContext {
  const rollouts: RolloutManifest[] = [];
  const invalidRollouts: { manifest: Manifest; problems: Problem[] }[] = [];
  for (const manifest of manifests.filter((m) => isKind(m, "Rollout"))) {
    const parsed = parseRollout(manifest.object);
    if (parsed.ok) rollouts.push({ manifest, rollout: parsed.rollout });
    else invalidRollouts.push({ manifest, problems: parsed.problems });
  }
  const objects = (kind: Kind, near?: string): Manifest[] =>
    manifests.filter((m) => isKind(m, kind) && sameNamespace(m.namespace, near));
  return {
    manifests,
    rollouts,
    invalidRollouts,
    options,
    objects,
    find: (kind, name, near) => objects(kind, near).find((m) => m.name === name),
  };
}
