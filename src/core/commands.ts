import type { Command } from "../api/rollout.ts";
import type { Decision } from "./context.ts";
import { freshAnalysis } from "./analysis.ts";
import { abort } from "./release.ts";

/**
 * Executes a user command (written to status.command by the CLI or an Argo CD action)
 * exactly once per id, and records what came of it in status.commandResult. Steering never
 * touches spec, so GitOps sees no drift.
 *
 * Commands run whatever else is wrong: with an invalid spec (`specValid` false) abort,
 * retry, pause and resume still work on what Aviary last routed; promote is refused,
 * because moving forward needs a spec to move to.
 */
export function applyCommand(d: Decision, specValid: boolean): void {
  const st = d.status;
  const command = st.command;
  if (command === undefined || command.id === st.lastCommandId) return;
  st.lastCommandId = command.id;
  const releasing =
    st.canaryHash !== undefined &&
    st.canaryHash !== st.stableHash &&
    // With an invalid spec the template cannot be read: the release in status is the one.
    (!specValid || st.canaryHash === d.observed.templateHash);
  const aborted = st.abortedAt !== undefined;
  const who = command.requestedBy ?? "a user";
  const result = execute(d, command, { releasing, aborted, specValid, who });
  st.commandResult = {
    id: command.id,
    name: command.name,
    outcome: result.ignored === undefined ? "Executed" : "Ignored",
    message: result.ignored ?? result.done,
  };
  if (result.ignored !== undefined)
    d.event(
      "Warning",
      "CommandIgnored",
      `${command.name} (${command.id}) ignored: ${result.ignored}`,
    );
}

interface Situation {
  releasing: boolean;
  aborted: boolean;
  specValid: boolean;
  who: string;
}

type Result = { done: string; ignored?: undefined } | { ignored: string };

function execute(d: Decision, command: Command, s: Situation): Result {
  const st = d.status;
  switch (command.name) {
    case "promote":
    case "promoteFull":
      if (!s.specValid)
        return { ignored: "the spec is invalid (see the InvalidSpec condition); fix it first" };
      if (!s.releasing) return { ignored: "no release is in progress" };
      if (s.aborted)
        return { ignored: "the release was aborted; use `aviary retry` to start it again" };
      delete st.manualPause;
      if (command.name === "promoteFull") st.promoteFull = true;
      else promoteOneStep(d);
      d.event("Normal", "Promoted", `${command.name} requested by ${s.who}`);
      return {
        done:
          command.name === "promoteFull"
            ? "promoting fully: remaining steps and analysis are skipped"
            : "promoted to the next step",
      };
    case "abort":
      if (!s.releasing) return { ignored: "no release is in progress" };
      if (s.aborted) return { ignored: "the release is already aborted" };
      abort(d, `aborted by ${s.who}`, false);
      return { done: "aborted: traffic returns to stable, then the canary is scaled down" };
    case "retry":
      if (!s.releasing || !s.aborted) return { ignored: "only an aborted release can be retried" };
      retry(d);
      d.event("Normal", "Retried", `retry requested by ${s.who}`);
      return {
        done: s.specValid
          ? "retrying the release from its first step"
          : "the release will start again from its first step once the spec is valid",
      };
    case "pause":
      st.manualPause = true;
      d.event("Normal", "Paused", `paused by ${s.who}`);
      return { done: "paused: steps hold until `aviary resume`" };
    case "resume":
      delete st.manualPause;
      d.event("Normal", "Resumed", `resumed by ${s.who}`);
      return { done: "resumed" };
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
