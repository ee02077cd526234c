import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Rollout, RolloutStatus } from "../api/rollout.ts";
import type { KubeEvent } from "../core/plan.ts";
import { NotificationDelivery, type OutboxStore } from "./delivery.ts";
import { SlackSender } from "./slack-sender.ts";
import { exampleRollout, rollbackEntry } from "../../test/fixtures/notifications.ts";
import { eventually } from "../../test/harness/eventually.ts";
import { script, startReceiver, type Receiver } from "../../test/harness/receiver.ts";

/**
 * The delivery loop against a real HTTP server (standing in for Slack) and an in-memory
 * outbox store that behaves like the API server's status subresource: writes are
 * conditional on the resourceVersion read, and each write bumps it.
 */
class MemoryStore implements OutboxStore {
  readonly rollouts = new Map<string, Rollout>();
  readonly events: KubeEvent[] = [];
  writes = 0;
  /** Makes the next n writes fail as if another writer got there first. */
  conflicts = 0;
  /** Makes writes throw, as an API server that is down. */
  down = false;

  put(rollout: Rollout): void {
    this.rollouts.set(key(rollout), {
      ...rollout,
      metadata: { ...rollout.metadata, resourceVersion: "1" },
    });
  }

  status(name: string): RolloutStatus {
    return this.rollouts.get(`production/${name}`)?.status ?? {};
  }

  read(namespace: string, name: string): Promise<Rollout | undefined> {
    const stored = this.rollouts.get(`${namespace}/${name}`);
    return Promise.resolve(stored === undefined ? undefined : structuredClone(stored));
  }

  write(rollout: Rollout, status: RolloutStatus): Promise<"written" | "stale"> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED (API server)"));
    const stored = this.rollouts.get(key(rollout));
    if (stored === undefined) return Promise.resolve("stale");
    if (
      this.conflicts > 0 ||
      stored.metadata.resourceVersion !== rollout.metadata.resourceVersion
    ) {
      this.conflicts = Math.max(0, this.conflicts - 1);
      // Someone else wrote meanwhile.
      stored.metadata.resourceVersion = String(Number(stored.metadata.resourceVersion) + 1);
      return Promise.resolve("stale");
    }
    this.writes++;
    this.rollouts.set(key(rollout), {
      ...stored,
      metadata: {
        ...stored.metadata,
        resourceVersion: String(Number(stored.metadata.resourceVersion) + 1),
      },
      status,
    });
    return Promise.resolve("written");
  }

  emit(_rollout: Rollout, event: KubeEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
}

const key = (r: Rollout) => `${r.metadata.namespace ?? "default"}/${r.metadata.name}`;
const SOURCE = 'Secret production/slack-webhook key "url"';
const quiet = { info: () => undefined, warn: () => undefined };

function pendingRollout(name = "api-service"): Rollout {
  const r = exampleRollout();
  return {
    ...r,
    metadata: { ...r.metadata, name },
    status: { notifications: { pending: [rollbackEntry()] } },
  };
}

async function setup(t: TestContext, options: { giveUpAfterMs?: number; timeoutMs?: number } = {}) {
  const slack = await startReceiver();
  const store = new MemoryStore();
  const delivery = new NotificationDelivery({
    store,
    senders: {
      slack: new SlackSender({
        destinationFor: () => ({ source: SOURCE, url: () => Promise.resolve(slack.url) }),
        timeoutMs: options.timeoutMs,
      }),
    },
    policy: {
      initialBackoffMs: 200,
      maxBackoffMs: 5_000,
      giveUpAfterMs: options.giveUpAfterMs ?? 60_000,
    },
    log: quiet,
  });
  t.after(async () => {
    await delivery.stop();
    await slack.close();
  });
  return { slack, store, delivery };
}

const delivered =
  (store: MemoryStore, name = "api-service") =>
  () =>
    Promise.resolve(store.status(name).notifications);

function gaps(slack: Receiver): number[] {
  return slack.posts.slice(1).map((p, i) => p.at - (slack.posts[i]?.at ?? 0));
}

describe("notification delivery beside reconciling", () => {
  test("Slack answering 500 three times, then 200: delivered once, after backoff, and marked sent", async (t) => {
    const { slack, store, delivery } = await setup(t);
    slack.respond(
      script({ status: 500 }, { status: 500 }, { status: 500 }, { status: 200, body: "ok" }),
    );
    store.put(pendingRollout());
    delivery.kick("production", "api-service");

    const outbox = await eventually(
      "the rollback is sent",
      delivered(store),
      (o) => o?.sent !== undefined,
    );
    assert.deepEqual(outbox, { sent: [rollbackEntry().id] });
    assert.equal(slack.posts.length, 4, "three failures, then one delivery");
    assert.equal(slack.accepted().length, 1);
    // Equal jitter: each wait is at least half of 200, 400, 800 ms.
    gaps(slack).forEach((gap, i) => assert.ok(gap >= 100 * 2 ** i, `wait ${i + 1} was ${gap} ms`));
  });

  test("429 with Retry-After: 2 — the next try comes no sooner than 2 s later", async (t) => {
    const { slack, store, delivery } = await setup(t);
    slack.respond(
      script(
        { status: 429, headers: { "retry-after": "2" }, body: "rate_limited" },
        { status: 200 },
      ),
    );
    store.put(pendingRollout());
    delivery.kick("production", "api-service");

    await eventually("the rollback is sent", delivered(store), (o) => o?.sent !== undefined);
    assert.equal(slack.posts.length, 2);
    assert.ok((gaps(slack)[0] ?? 0) >= 2_000, `retried after ${gaps(slack)[0]} ms`);
  });

  test("404: refused at once, not retried; NotificationFailed names the Secret and key, with an Event", async (t) => {
    const { slack, store, delivery } = await setup(t);
    slack.respond(() => ({ status: 404, body: "no_service" }));
    store.put(pendingRollout());
    delivery.kick("production", "api-service");

    const outbox = await eventually("given up", delivered(store), (o) => o?.failed !== undefined);
    assert.equal(outbox?.pending, undefined);
    const condition = store
      .status("api-service")
      .conditions?.find((c) => c.type === "NotificationFailed");
    assert.equal(condition?.reason, "SlackRejected");
    assert.match(condition?.message ?? "", /Secret production\/slack-webhook key "url".*404/);
    assert.equal(store.events.length, 1);
    delivery.kick("production", "api-service");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(slack.posts.length, 1, "never retried");
  });

  test("a status write that conflicts is redone on fresh data, without posting again", async (t) => {
    const { slack, store, delivery } = await setup(t);
    store.put(pendingRollout());
    store.conflicts = 2;
    delivery.kick("production", "api-service");
    await eventually("sent", delivered(store), (o) => o?.sent !== undefined);
    assert.equal(slack.posts.length, 1);
  });

  test("an API server that is down after the post: recorded once it is back, still without a second post", async (t) => {
    const { slack, store, delivery } = await setup(t);
    store.put(pendingRollout());
    store.down = true;
    slack.onAnswered(() => {
      setTimeout(() => (store.down = false), 1_000);
    });
    delivery.kick("production", "api-service");
    await eventually("sent", delivered(store), (o) => o?.sent !== undefined, undefined, 15_000);
    assert.equal(slack.posts.length, 1);
  });

  test("a receiver that hangs for one Rollout does not hold another's delivery", async (t) => {
    const { slack, store, delivery } = await setup(t, { timeoutMs: 20_000 });
    slack.respond((post) => (post.body.includes("stuck") ? "hold" : { status: 200, body: "ok" }));
    const stuck = pendingRollout("stuck");
    store.put(stuck);
    store.put(pendingRollout("other"));
    delivery.kick("production", "stuck");
    await eventually(
      "the stuck post is in flight",
      () => Promise.resolve(slack.posts.length),
      (n) => n === 1,
    );
    delivery.kick("production", "other");
    await eventually(
      "the other Rollout is sent",
      delivered(store, "other"),
      (o) => o?.sent !== undefined,
    );
    assert.equal(
      store.status("stuck").notifications?.pending?.length,
      1,
      "still pending, not lost",
    );
    slack.dropHeld();
  });

  test("stop() lets the post in flight finish and records it", async (t) => {
    const { slack, store, delivery } = await setup(t);
    store.put(pendingRollout());
    delivery.kick("production", "api-service");
    await delivery.stop();
    assert.equal(slack.posts.length, 1);
    assert.deepEqual(store.status("api-service").notifications, { sent: [rollbackEntry().id] });
    delivery.kick("production", "api-service");
    assert.equal(slack.posts.length, 1, "nothing more once stopped");
  });
});
