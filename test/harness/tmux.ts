import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

/**
 * A real terminal for tests: a tmux server of the test's own (its own socket, so it never
 * touches a person's tmux), a window of a given size running one command, and its screen
 * read with capture-pane. tmux comes from Debian (.ci/run installs it).
 */
export interface Terminal {
  /** The screen as text, one string per row (trailing blanks trimmed). */
  screen(): string[];
  /** The scrollback and the screen, as text. */
  history(): string;
  /** The screen with its escape sequences (colors), as capture-pane -e gives it. */
  screenWithStyles(): string;
  resize(columns: number, rows: number): void;
  keys(...keys: string[]): void;
  /** The command's exit status once it ended, else undefined. */
  exitStatus(): number | undefined;
}

export function tmuxAvailable(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function startTerminal(
  t: TestContext,
  command: readonly string[],
  size: { columns: number; rows: number },
): Terminal {
  const socket = `aviary-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const tmux = (...args: string[]): string =>
    execFileSync("tmux", ["-u", "-L", socket, ...args], {
      encoding: "utf8",
      env: { ...process.env, LANG: "C.UTF-8", TERM: "xterm-256color" },
    });
  // A shell runs the command and writes its exit status to a file: tmux can mark the pane
  // dead yet leave its process unreaped (a zombie, so no status) for a long while on a loaded
  // machine, whereas the shell waits for its own child and always records how it ended.
  const dir = mkdtempSync(join(tmpdir(), "aviary-tmux-"));
  const statusFile = join(dir, "status");
  const wrapped = ["sh", "-c", `"$@"; echo $? > ${JSON.stringify(statusFile)}`, "sh", ...command];
  tmux(
    "new-session",
    "-d",
    "-s",
    "live",
    "-x",
    String(size.columns),
    "-y",
    String(size.rows),
    ...wrapped,
    // In the same call, so a command that ends at once still leaves its screen and status.
    ";",
    "set-option",
    "-t",
    "live",
    "remain-on-exit",
    "on",
  );
  t.after(() => {
    try {
      tmux("kill-server");
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    screen: () =>
      tmux("capture-pane", "-p", "-t", "live")
        .split("\n")
        .map((line) => line.trimEnd()),
    history: () => tmux("capture-pane", "-p", "-S", "-", "-t", "live"),
    screenWithStyles: () => tmux("capture-pane", "-p", "-e", "-t", "live"),
    resize: (columns, rows) => {
      tmux("resize-window", "-t", "live", "-x", String(columns), "-y", String(rows));
    },
    keys: (...keys) => {
      tmux("send-keys", "-t", "live", ...keys);
    },
    exitStatus: () => {
      let text: string;
      try {
        text = readFileSync(statusFile, "utf8").trim();
      } catch {
        return undefined; // still running
      }
      // The shell reports a command killed by a signal as 128 + signal.
      return text === "" ? undefined : Number(text);
    },
  };
}
