import { spawn } from "node:child_process";
import { appendFileSync, openSync, closeSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Child processes of the test environment. Each runs detached in its own process group
 * with its output in a log file, so teardown can kill the whole group and a failed start
 * can show the last log lines.
 */
export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Set once the process has exited. */
  exited: { code: number | null; signal: string | null } | undefined;
}

/** The file in a log dir that lists the process groups started there, one pid a line. */
export function pidsFile(logDir: string): string {
  return join(logDir, "pids");
}

/** Reads the pids recorded by startProcess in a log dir. */
export function recordedPids(logDir: string): number[] {
  if (!existsSync(pidsFile(logDir))) return [];
  return readFileSync(pidsFile(logDir), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(Number);
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logDir: string,
  record = true,
): ManagedProcess {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) {
    throw new Error(`could not start ${name} (${command}): is the binary present and executable?`);
  }
  // Recorded at once, so the reaper and `cluster:down` find it even if start-up fails later.
  if (record) appendFileSync(pidsFile(logDir), `${child.pid}\n`);
  const managed: ManagedProcess = { name, pid: child.pid, logFile, exited: undefined };
  child.on("exit", (code, signal) => {
    managed.exited = { code, signal };
  });
  child.on("error", (error) => {
    managed.exited = { code: null, signal: error.message };
  });
  // The child must not keep the test runner alive; teardown kills it explicitly.
  child.unref();
  return managed;
}

/** The last lines of a log file, for error messages. */
export function lastLogLines(logFile: string, lines = 25): string {
  if (!existsSync(logFile)) return "(no log file)";
  const text = readFileSync(logFile, "utf8").trimEnd().split("\n");
  return text.slice(-lines).join("\n");
}

function describeFailure(proc: ManagedProcess, what: string): string {
  return `${proc.name} ${what}. Last lines of ${proc.logFile}:\n${lastLogLines(proc.logFile)}`;
}

/**
 * Polls `check` until it returns true. Fails with the process's last log lines when the
 * process exits or the deadline passes.
 */
export async function waitUntilHealthy(
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited) {
      throw new Error(
        describeFailure(
          proc,
          `exited early (code ${proc.exited.code}, signal ${proc.exited.signal})`,
        ),
      );
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(describeFailure(proc, `did not become healthy within ${timeoutMs / 1000}s`));
    }
    await sleep(100);
  }
}

/** True while a process (by pid) is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills a process group: SIGTERM, then SIGKILL for whatever is left after `graceMs`. */
export async function killGroups(pids: readonly number[], graceMs = 3000): Promise<void> {
  for (const pid of pids) signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) signalGroup(pid, "SIGKILL");
}

/** Synchronous kill, for process "exit" handlers where nothing asynchronous runs. */
export function killGroupsNow(pids: readonly number[]): void {
  for (const pid of pids) signalGroup(pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error("could not read the address of a probe socket"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Starts a small shell that kills the given process groups once `parentPid` is gone.
 * It covers what exit handlers cannot: the test runner being killed with SIGKILL.
 */
export function startReaper(parentPid: number, logDir: string): ManagedProcess {
  const pids = pidsFile(logDir);
  const script = [
    `while kill -0 ${parentPid} 2>/dev/null; do sleep 1; done`,
    `for p in $(cat '${pids}' 2>/dev/null); do kill -TERM -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done`,
    "sleep 2",
    `for p in $(cat '${pids}' 2>/dev/null); do kill -KILL -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; done`,
  ].join("\n");
  return startProcess("reaper", "sh", ["-c", script], logDir, false);
}
