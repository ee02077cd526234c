import { useEffect, useRef, useState } from "preact/hooks";
import type { CommandName } from "../../api/status.ts";
import type { CommandAnswer } from "../wire.ts";

/**
 * The steering buttons of a Rollout's page: each sends one command through the dashboard
 * (which checks RBAC as the user); the ones that change what users get are confirmed first.
 */

interface Button {
  command: CommandName;
  label: string;
  /** Asked before it is sent: it changes what users get right away. */
  confirm?: string;
}

const BUTTONS: Button[] = [
  { command: "promote", label: "Promote" },
  {
    command: "promoteFull",
    label: "Promote full",
    confirm: "Send all traffic to the canary now, skipping the remaining steps and analysis?",
  },
  {
    command: "abort",
    label: "Abort",
    confirm: "Abort the release? All traffic returns to stable and the canary is scaled down.",
  },
  { command: "retry", label: "Retry" },
  { command: "pause", label: "Pause" },
  { command: "resume", label: "Resume" },
];

export function Steering({
  namespace,
  name,
  canSteer,
}: {
  namespace: string;
  name: string;
  canSteer: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<CommandAnswer | undefined>();
  const [asking, setAsking] = useState<Button | undefined>();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (asking !== undefined) dialog.current?.showModal();
    else dialog.current?.close();
  }, [asking]);
  const send = async (button: Button): Promise<void> => {
    setAsking(undefined);
    setBusy(true);
    try {
      const response = await fetch(`/api/rollouts/${namespace}/${name}/commands`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ command: button.command }),
      });
      const body = (await response.json().catch(() => ({
        ok: false,
        message: `the dashboard answered ${String(response.status)}`,
      }))) as CommandAnswer;
      setAnswer(body);
    } catch (error) {
      setAnswer({ ok: false, message: `the dashboard cannot be reached: ${String(error)}` });
    } finally {
      setBusy(false);
    }
  };
  const why = canSteer
    ? undefined
    : "You may not steer this Rollout (RBAC: patch on rollouts/status)";
  return (
    <section aria-labelledby="steer-title">
      <h2 id="steer-title">Steer</h2>
      <div class="buttons" role="group" aria-label="Steering commands">
        {BUTTONS.map((button) => (
          <button
            type="button"
            key={button.command}
            data-command={button.command}
            class={button.command === "abort" ? "danger" : ""}
            disabled={!canSteer || busy}
            title={why}
            onClick={() => (button.confirm === undefined ? void send(button) : setAsking(button))}
          >
            {button.label}
          </button>
        ))}
      </div>
      {why !== undefined && (
        <p class="muted" id="steer-readonly">
          {why}.
        </p>
      )}
      {answer !== undefined && (
        <p
          id="steer-answer"
          class={answer.ok ? "ok" : "error"}
          role={answer.ok ? "status" : "alert"}
        >
          {answer.message}
        </p>
      )}
      <dialog ref={dialog} aria-labelledby="confirm-text" onClose={() => setAsking(undefined)}>
        <p id="confirm-text">{asking?.confirm}</p>
        <div class="buttons">
          <button
            type="button"
            class="danger"
            id="confirm-yes"
            onClick={() => asking !== undefined && void send(asking)}
          >
            {asking?.label ?? ""}
          </button>
          <button type="button" id="confirm-no" onClick={() => setAsking(undefined)}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
