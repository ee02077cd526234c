import {
  cursorHide,
  cursorShow,
  cursorTo,
  enterAlternativeScreen,
  eraseDown,
  eraseEndLine,
  exitAlternativeScreen,
} from "ansi-escapes";
import { accessReview } from "../../kube/access-review.ts";
import { CliError } from "../errors.ts";
import type { Cluster } from "../kube-client.ts";
import { followable, notShownNote } from "./followable.ts";
import { eventKey, eventLine, summaryLine } from "./render-line.ts";
import { renderScreen } from "./render-screen.ts";
import { rolloutView, type RolloutView } from "./rollout-view.ts";
import { watchRollout, type Watched } from "./watch-rollout.ts";

/**
 * `aviary get <rollout> --watch`. On a terminal: a screen redrawn in place (in the
 * alternate screen, as top and less do, so a resize never leaves stale lines) on every
 * watch event and on every resize; `q` or Ctrl-C ends it and leaves the last screen in
 * the scrollback. Elsewhere (a pipe, a CI log): one line per change.
 */
export interface LiveOptions {
  color: boolean;
  /** Stop after this long; undefined: until interrupted. */
  timeoutMs?: number | undefined;
}

/** Frames are coalesced: a burst of watch events draws once. */
const FRAME_MS = 50;

export async function runLiveView(
  cluster: Cluster,
  name: string,
  options: LiveOptions,
): Promise<void> {
  const out = process.stdout;
  const tty = out.isTTY;
  // A review that fails says nothing: follow everything, as before these checks.
  const follow = await followable(accessReview(cluster.kubeConfig, true), cluster.namespace, name);
  if (!follow.rollouts)
    throw new CliError(
      `--watch follows the Rollout with list and watch, which you may not do on rollouts in namespace ${cluster.namespace}; drop --watch to read it once`,
    );
  const note = notShownNote(follow, cluster.namespace);
  const sink = tty ? screenSink(out, options.color, note) : lineSink(out, note);
  let latest: RolloutView | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Until every watch has listed, a missing Rollout only means "not listed yet".
  let synced = false;
  const draw = (): void => {
    timer = undefined;
    if (synced && latest !== undefined) sink.draw(latest);
  };
  const onChange = (watched: Watched): void => {
    latest =
      watched.rollout === undefined
        ? deletedView(cluster.namespace, name)
        : rolloutView(watched.rollout, watched.replicaSets, watched.events);
    timer ??= setTimeout(draw, FRAME_MS);
  };
  const watch = watchRollout(cluster.kubeConfig, cluster.namespace, name, onChange, follow);
  void watch.synced.then(() => {
    synced = true;
    draw();
  });
  const onResize = (): void => draw();
  out.on("resize", onResize);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const input = process.stdin;
    if (tty && input.isTTY) {
      input.setRawMode(true);
      input.resume();
      input.on("data", (key: Buffer) => {
        const k = key.toString();
        if (k === "q" || k === "\u0003") stop();
      });
    }
    if (options.timeoutMs !== undefined) setTimeout(stop, options.timeoutMs).unref();
  });
  out.off("resize", onResize);
  clearTimeout(timer);
  if (process.stdin.isTTY) {
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  sink.close(latest);
  // Closing the watches must not keep a person waiting: leave after a moment regardless.
  await Promise.race([watch.stop(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
}

interface Sink {
  draw(view: RolloutView): void;
  close(last: RolloutView | undefined): void;
}

function screenSink(out: NodeJS.WriteStream, color: boolean, note: string | undefined): Sink {
  out.write(enterAlternativeScreen + cursorHide);
  const frame = (view: RolloutView): string[] =>
    renderScreen(view, { width: out.columns, height: out.rows, color, note });
  return {
    draw(view) {
      const lines = frame(view);
      out.write(`${cursorTo(0, 0)}${lines.map((l) => l + eraseEndLine).join("\n")}\n${eraseDown}`);
    },
    close(last) {
      out.write(exitAlternativeScreen + cursorShow);
      if (last !== undefined)
        out.write(`${renderScreen(last, { width: out.columns, color, note }).join("\n")}\n`);
    },
  };
}

function lineSink(out: NodeJS.WriteStream, note: string | undefined): Sink {
  let last = "";
  let noted = false;
  const seenEvents = new Set<string>();
  return {
    draw(view) {
      if (note !== undefined && !noted) {
        noted = true;
        out.write(`${stamp()} note: ${note}\n`);
      }
      for (const event of view.events) {
        const key = eventKey(event);
        if (seenEvents.has(key)) continue;
        seenEvents.add(key);
        out.write(`${stamp()} ${eventLine(event)}\n`);
      }
      const line = summaryLine(view);
      if (line === last) return;
      last = line;
      out.write(`${stamp()} ${line}\n`);
    },
    close() {},
  };
}

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}

function deletedView(namespace: string, name: string): RolloutView {
  return {
    ...rolloutView({ metadata: { namespace, name } }, [], []),
    phase: "Deleted",
    message: `rollout ${name} no longer exists in namespace ${namespace}`,
  };
}
