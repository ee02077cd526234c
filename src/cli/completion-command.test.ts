import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "../..");
const aviary = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: REPO,
    encoding: "utf8",
  });

test("completion prints a script for bash, zsh and fish that asks aviary for the words", () => {
  for (const [shell, marker] of [
    ["bash", /complete -F/],
    ["zsh", /#compdef aviary/],
    ["fish", /complete -c aviary/],
  ] as const) {
    const run = aviary("completion", shell);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, marker, shell);
    assert.match(run.stdout, /aviary complete --/, shell);
  }
});

test("the completions come from the commands themselves: subcommands, options, choices", () => {
  const commands = aviary("complete", "--", "");
  for (const name of ["promote", "get", "lint", "set", "completion"])
    assert.match(commands.stdout, new RegExp(`^${name}\\t`, "m"));
  assert.match(aviary("complete", "--", "set", "").stdout, /^image\t/m);
  const formats = aviary("complete", "--", "lint", "-o", "").stdout;
  assert.deepEqual(
    formats
      .split("\n")
      .filter((l) => /^\w+\t/.test(l))
      .map((l) => l.split("\t")[0]),
    ["text", "json", "sarif"],
  );
});
