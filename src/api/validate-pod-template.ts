import { describeValue } from "./schema-problems.ts";
import type { Add } from "./validate-fields.ts";

/** A DNS-1123 label, as the API server requires of container names. */
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * What the API server would refuse when Aviary creates the ReplicaSet: caught here, it is
 * an InvalidSpec naming the field instead of a failed write in the middle of a release.
 */
export function checkPodTemplate(add: Add, template: Record<string, unknown>): void {
  const spec = template.spec;
  const path = "spec.template.spec";
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    add(path, "is required: the pod template needs a spec with at least one container");
    return;
  }
  const containers = (spec as Record<string, unknown>).containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    add(`${path}.containers`, "needs at least one container (name and image)");
    return;
  }
  const names = new Map<string, number>();
  containers.forEach((container: unknown, index) => {
    const at = `${path}.containers[${index}]`;
    if (typeof container !== "object" || container === null) {
      add(at, "must be a mapping with name and image");
      return;
    }
    const { name, image } = container as Record<string, unknown>;
    if (typeof name !== "string" || name.length > 63 || !CONTAINER_NAME.test(name)) {
      add(
        `${at}.name`,
        `must be a DNS-1123 label (at most 63 lower-case letters, digits and '-'), got ${describeValue(name)}`,
      );
    } else if (names.has(name)) {
      add(
        `${at}.name`,
        `"${name}" is already the name of containers[${names.get(name) ?? 0}]: give each container its own name`,
      );
    } else names.set(name, index);
    if (typeof image !== "string" || image.trim() === "")
      add(`${at}.image`, `is required: the image to run, got ${describeValue(image)}`);
  });
}
