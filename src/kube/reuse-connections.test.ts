import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { reuseConnections } from "./reuse-connections.ts";

type WithDispatcher = { createDispatcher: (cluster: unknown, options: object) => unknown };

test("one undici Agent per cluster and credentials, instead of one per request", () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:6443", caData: "Y2E=" }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const self = kc as unknown as WithDispatcher;
  const cluster = kc.getCurrentCluster();
  const options = { ca: Buffer.from("ca") };
  assert.notEqual(
    self.createDispatcher(cluster, options),
    self.createDispatcher(cluster, options),
    "client-node alone builds a new Agent each time (what this works around)",
  );
  reuseConnections(kc);
  const first = self.createDispatcher(cluster, options);
  assert.equal(self.createDispatcher(cluster, { ca: Buffer.from("ca") }), first);
  assert.notEqual(self.createDispatcher(cluster, { ca: Buffer.from("other") }), first);
});
