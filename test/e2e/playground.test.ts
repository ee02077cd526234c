import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../harness/testenv.ts";
import type { ListUpdate } from "../../src/dashboard/wire.ts";

/**
 * `npm run playground` as a newcomer runs it: it starts its own control plane, Prometheus,
 * mesh simulator, controller and dashboard, applies the examples (they become Healthy, seen
 * on the dashboard), and Ctrl-C stops all of it.
 */
test("the playground runs the examples, serves the dashboard, and stops on Ctrl-C", async (t) => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "test/harness/playground.ts"), "--port", "0"],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  t.after(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const started = Date.now();
  while (!/dashboard:\s+http/.test(out)) {
    assert.ok(Date.now() - started < 120_000, `the playground did not start:\n${out}`);
    assert.equal(child.exitCode, null, `the playground exited:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const url = /dashboard:\s+(http\S+)/.exec(out)?.[1] ?? "";
  const prometheus = /prometheus:\s+(http\S+)/.exec(out)?.[1] ?? "";
  assert.match(out, /set image api-service/);
  assert.match(out, /get api-service -n production --watch/);

  // The dashboard's list stream, until every example Rollout is Healthy.
  const response = await fetch(`${url}/api/rollouts/stream`, {
    signal: AbortSignal.timeout(90_000),
  });
  assert.ok(response.body);
  const decoder = new TextDecoder();
  let buffer = "";
  let rows: ListUpdate["rows"] = [];
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    const events = buffer.split("\n\n");
    buffer = events.pop() ?? "";
    for (const event of events) {
      const data = /^data: (.*)$/m.exec(event)?.[1];
      if (data !== undefined) rows = (JSON.parse(data) as ListUpdate).rows;
    }
    if (rows.length >= 3 && rows.every((r) => r.phase === "Healthy")) break;
  }
  assert.deepEqual(rows.map((r) => `${r.namespace}/${r.name} ${r.phase}`).sort(), [
    "apps/podinfo Healthy",
    "production/api-service Healthy",
    "shop/checkout Healthy",
  ]);

  // Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops everything.
  process.kill(-(child.pid ?? 0), "SIGINT");
  assert.equal(await exited, 0, out);
  await assert.rejects(fetch(`${prometheus}/-/ready`, { signal: AbortSignal.timeout(2_000) }));
  await assert.rejects(fetch(url, { signal: AbortSignal.timeout(2_000) }));
});
