import { GROUP, ROLLOUT_PLURAL } from "../../api/rollout.ts";
import type { AccessCheck } from "../../kube/access-review.ts";

/**
 * What the live view may follow besides the Rollout. A watch of a kind the user may not
 * list never syncs, and the view waits for all of them before it draws: a user without
 * access to ReplicaSets or Events would see nothing at all. Each needs both list and watch.
 */
export interface Followable {
  /** Without it there is no live view at all. */
  rollouts: boolean;
  replicaSets: boolean;
  events: boolean;
}

export async function followable(
  check: AccessCheck,
  namespace: string,
  /** The Rollout: its watch selects it by name, which RBAC's resourceNames can allow alone. */
  name: string,
): Promise<Followable> {
  const may = async (group: string, resource: string, only?: string): Promise<boolean> => {
    const verbs = ["list", "watch"].map((verb) =>
      check({ group, resource, verb, namespace, ...(only === undefined ? {} : { name: only }) }),
    );
    return (await Promise.all(verbs)).every(Boolean);
  };
  const [rollouts, replicaSets, events] = await Promise.all([
    may(GROUP, ROLLOUT_PLURAL, name),
    may("apps", "replicasets"),
    may("", "events"),
  ]);
  return { rollouts, replicaSets, events };
}

/** What the view says about what it leaves out; undefined when it leaves out nothing. */
export function notShownNote(follow: Followable, namespace: string): string | undefined {
  const hidden = [
    ...(follow.replicaSets ? [] : ["ReplicaSets"]),
    ...(follow.events ? [] : ["Events"]),
  ];
  if (hidden.length === 0) return undefined;
  return `${hidden.join(" and ")} not shown: you may not list and watch them in namespace ${namespace}`;
}
