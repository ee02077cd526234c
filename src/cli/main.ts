import { run } from "./program.ts";

const code = await run(process.argv.slice(2));
// A command that has returned is done: a watch or keep-alive socket that closes late (the
// live view's, on a loaded machine) must not keep the person's prompt waiting. What was
// written is flushed first (an empty write calls back after the ones before it).
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) => new Promise<void>((resolve) => stream.write("", () => resolve())),
  ),
);
process.exit(code);
