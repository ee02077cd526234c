import {
  ISTIO_REVISION_LABEL,
  LINKERD_HASH_LABEL,
  POD_TEMPLATE_HASH_LABEL,
} from "../api/labels.ts";

/**
 * Whether a selector Aviary narrows (a Service's selector, a DestinationRule subset's
 * labels) can match the Rollout's pods at all. Aviary adds its hash labels to every pod
 * and to the selector; every other label the selector asks for must already be on the
 * pod template, or the selector matches nothing once narrowed (503s with a real mesh).
 */

/** The labels Aviary puts on every pod it creates, beside the template's own. */
export const HASH_LABELS: readonly string[] = [
  POD_TEMPLATE_HASH_LABEL,
  LINKERD_HASH_LABEL,
  ISTIO_REVISION_LABEL,
];

export interface UnmatchedLabel {
  key: string;
  /** What the selector asks for. */
  wanted: string;
  /** What the pod template carries under that key, if anything. */
  found?: string | undefined;
}

/** The selector's labels that the Rollout's pods (template labels plus Aviary's hash labels) do not carry. */
export function unmatchedLabels(
  selector: Readonly<Record<string, unknown>>,
  podLabels: Readonly<Record<string, unknown>>,
): UnmatchedLabel[] {
  const unmatched: UnmatchedLabel[] = [];
  for (const [key, wanted] of Object.entries(selector)) {
    if (HASH_LABELS.includes(key)) continue;
    const found = podLabels[key];
    if (found === wanted) continue;
    unmatched.push({
      key,
      wanted: String(wanted),
      ...(typeof found === "string" ? { found } : {}),
    });
  }
  return unmatched;
}

/** "version=v2" or "version=v2 and tier=web", for messages. */
export function describeLabels(labels: readonly UnmatchedLabel[]): string {
  return labels.map((l) => `${l.key}=${l.wanted}`).join(" and ");
}

/** The pod template's own labels, from an untyped template. */
export function templateLabels(
  template: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const metadata = template?.metadata;
  if (typeof metadata !== "object" || metadata === null) return {};
  const labels = (metadata as Record<string, unknown>).labels;
  return typeof labels === "object" && labels !== null ? (labels as Record<string, unknown>) : {};
}
