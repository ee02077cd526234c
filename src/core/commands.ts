import type { Command } from "../api/rollout.ts";
import type { Decision } from "./context.ts";
import { freshAnalysis } from "./analysis.ts";
import { abort } from "./release.ts";

/**
 * Executes a user command (written to status.command by the CLI or an Argo CD action)
 * exactly once per id. Steering never touches spec, so GitOps sees no drift.
 */
export function applyCommand(d: Decision): void {
  const st = d.status;
  const command = st.command;
  if (command === undefined || command.id === st.lastCommandId) return;
  st.lastCommandId = command.id;
  const releasing =
    st.canaryHash !== undefined &&
    st.canaryHash === d.observed.templateHash &&
    st.canaryHash !== st.stableHash;
  const aborted = st.abortedAt !== undefined;
  const ignore = (why: string): void =>
    d.event("Warning", "CommandIgnored", `${command.name} (${command.id}) ignored: ${why}`);
  const who = command.requestedBy ?? "a user";

  switch (command.name) {
    case "promote":
    case "promoteFull":
      if (!releasing) return ignore("no release is in progress");
      if (aborted) return ignore("the release was aborted; use `aviary retry` to start it again");
      delete st.manualPause;
      if (command.name === "promoteFull") st.promoteFull = true;
      else promoteOneStep(d);
      d.event("Normal", "Promoted", `${command.name} requested by ${who}`);
      return;
    case "abort":
      if (!releasing) return ignore("no release is in progress");
      if (aborted) return ignore("the release is already aborted");
      abort(d, `aborted by ${who}`, false);
      return;
    case "retry":
      if (!releasing || !aborted) return ignore("only an aborted release can be retried");
      retry(d);
      d.event("Normal", "Retried", `retry requested by ${who}`);
      return;
    case "pause":
      st.manualPause = true;
      d.event("Normal", "Paused", `paused by ${who}`);
      return;
    case "resume":
      delete st.manualPause;
      d.event("Normal", "Resumed", `resumed by ${who}`);
      return;
  }
}

function promoteOneStep(d: Decision): void {
  const st = d.status;
  if (d.spec.strategy.blueGreen !== undefined) {
    st.promoteRequested = true;
    return;
  }
  const steps = d.spec.strategy.canary?.steps.length ?? 0;
  st.currentStepIndex = Math.min((st.currentStepIndex ?? 0) + 1, steps);
  st.stepStartedAt = d.nowIso;
  st.lastProgressAt = d.nowIso;
  st.stepAnalysisBaseSeconds = st.analysis?.conclusiveSeconds ?? 0;
}

function retry(d: Decision): void {
  const st = d.status;
  // A retry starts the release afresh: no promotion requested before the abort carries over.
  delete st.promoteFull;
  delete st.promoteRequested;
  delete st.canaryScale;
  st.headerRoutes = [];
  delete st.abortedAt;
  delete st.abortReason;
  delete st.previewReadyAt;
  delete st.promotedAt;
  st.currentStepIndex = 0;
  st.stepStartedAt = d.nowIso;
  st.lastProgressAt = d.nowIso;
  st.analysis = freshAnalysis(d.nowIso);
  st.stepAnalysisBaseSeconds = 0;
  d.condition("Progressing", "True", "Retried", "release retried");
}

export type { Command };
