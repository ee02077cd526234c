import type { Decision } from "./context.ts";
import { applyCommand } from "./commands.ts";
import { sameManaged, serviceNamesOf } from "./managed.ts";
import type { Problem } from "./plan.ts";
import { abortedAtMs, returnTrafficToStable } from "./release.ts";

/** Seconds the canary keeps its pods after an abort when the spec that says otherwise is unreadable. */
const DEFAULT_ABORT_SCALE_DOWN_SECONDS = 30;
/** Problems listed in full in the message; the rest are counted (status must stay small). */
const LISTED_PROBLEMS = 5;

/**
 * A Rollout whose spec is invalid (or that reaches for what another Rollout manages):
 * nothing moves forward, and it says why, naming each field. Commands still run: a broken
 * edit must never trap traffic on a canary, so an abort returns traffic to stable through
 * what Aviary last managed (status.managed), and scales the canary down after that.
 */
export function holdInvalidSpec(d: Decision, problems: readonly Problem[]): void {
  const message = describeProblems(problems);
  d.condition("InvalidSpec", "True", "InvalidSpec", message);
  d.event("Warning", "InvalidSpec", message);
  applyCommand(d, false);
  const st = d.status;
  const managed = st.managed;
  // Only what was observed through status.managed may be moved: the spec may name
  // objects that belong to someone else.
  const observedManaged = managed !== undefined && sameManaged(d.observed.managed, managed);
  const releasing = st.canaryHash !== undefined && st.canaryHash !== st.stableHash;
  if (st.abortedAt !== undefined && releasing && observedManaged) {
    const strategy = d.rollout.spec.strategy as Partial<typeof d.rollout.spec.strategy> | undefined;
    const delay =
      strategy?.canary?.abortScaleDownDelaySeconds ??
      strategy?.blueGreen?.abortScaleDownDelaySeconds ??
      DEFAULT_ABORT_SCALE_DOWN_SECONDS;
    const back = returnTrafficToStable(
      d,
      serviceNamesOf(managed),
      st.canaryHash ?? "",
      delay,
      abortedAtMs(d),
      undefined,
    );
    const state = back ? "traffic is back on stable" : "returning traffic to stable";
    d.phase("Degraded", `invalid spec: ${message}; aborted, ${state}`);
    return;
  }
  const held = releasing ? "; the release is held: fix the spec, or `aviary abort`" : "";
  d.phase("Degraded", `invalid spec: ${message}${held}`);
}

function describeProblems(problems: readonly Problem[]): string {
  const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length - listed.length;
  return more > 0 ? `${listed.join("; ")}; and ${more} more` : listed.join("; ");
}
