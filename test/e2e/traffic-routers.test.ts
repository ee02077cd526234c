import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL } from "../../src/api/labels.ts";
import { Rollout, type RolloutInput } from "../../src/api/rollout.ts";
import { hostLevelTarget } from "../../src/traffic/istio-virtualservice.ts";
import { RoutingProblem, type TrafficRouter } from "../../src/traffic/router.ts";
import { routerFor } from "../../src/traffic/select-router.ts";
import { virtualServiceWeightPatch } from "../../src/traffic/virtualservice-patch.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { httpRouteRoutes, ruleFor, virtualServiceRoutes } from "../harness/mesh-routing.ts";

type Json = Record<string, unknown>;

const VIRTUAL_SERVICES = { group: "networking.istio.io", version: "v1", plural: "virtualservices" };
const DESTINATION_RULES = {
  group: "networking.istio.io",
  version: "v1",
  plural: "destinationrules",
};
const HTTP_ROUTES = { group: "gateway.networking.k8s.io", version: "v1", plural: "httproutes" };
const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);

async function read(kind: typeof VIRTUAL_SERVICES, namespace: string, name: string): Promise<Json> {
  return (await custom().getNamespacedCustomObject({ ...kind, namespace, name })) as Json;
}

async function create(kind: typeof VIRTUAL_SERVICES, namespace: string, body: Json): Promise<void> {
  await custom().createNamespacedCustomObject({ ...kind, namespace, body });
}

/** A Rollout as a person writes it, through Aviary's own schema (so defaults apply). */
function rollout(namespace: string, strategy: RolloutInput["spec"]["strategy"]): Rollout {
  return Rollout.parse({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "api", namespace },
    spec: {
      selector: { matchLabels: { app: "api" } },
      template: { metadata: { labels: { app: "api" } } },
      strategy,
    },
  });
}

function istioRouter(namespace: string, routes?: string[]): TrafficRouter {
  const router = routerFor(
    rollout(namespace, {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        trafficRouting: {
          istio: { virtualService: { name: "api-vs", ...(routes ? { routes } : {}) } },
        },
      },
    }),
    kubeConfig(),
  );
  assert.ok(router);
  return router;
}

/** A VirtualService as a person writes it: timeouts, retries, a header route of their own, and routes Aviary must not touch. */
function personsVirtualService(namespace: string): Json {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: {
      name: "api-vs",
      namespace,
      labels: { team: "shop" },
      annotations: { "argocd.argoproj.io/tracking-id": "shop:x" },
    },
    spec: {
      hosts: ["api", "api.example.com"],
      gateways: ["mesh", "istio-system/public"],
      http: [
        {
          name: "debug",
          match: [{ headers: { "x-debug": { exact: "1" } } }],
          route: [{ destination: { host: "api-stable", port: { number: 80 } } }],
          headers: { request: { set: { "x-debug-route": "yes" } } },
        },
        {
          name: "primary",
          match: [{ uri: { prefix: "/api" } }],
          timeout: "3s",
          retries: { attempts: 3, perTryTimeout: "1s", retryOn: "5xx,reset" },
          corsPolicy: { allowOrigins: [{ exact: "https://shop.example.com" }], maxAge: "24h" },
          route: [
            { destination: { host: "api-stable", port: { number: 80 } }, weight: 100 },
            {
              destination: {
                host: `api-canary.${namespace}.svc.cluster.local`,
                port: { number: 80 },
              },
              weight: 0,
            },
          ],
        },
        {
          name: "legacy",
          route: [{ destination: { host: "legacy", port: { number: 8080 } } }],
          timeout: "10s",
        },
      ],
    },
  };
}

type Route = { route: { destination: Json; weight?: number }[] };
const http = (vs: Json): (Json & Route)[] => (vs.spec as { http: (Json & Route)[] }).http;

/** The object as it was, with only the given weights of the "primary" route changed. */
function withPrimaryWeights(before: Json, stable: number, canary: number): Json {
  const expected = structuredClone(before);
  const primary = http(expected).find((route) => route.name === "primary");
  assert.ok(primary?.route[0] && primary.route[1]);
  primary.route[0].weight = stable;
  primary.route[1].weight = canary;
  return expected;
}

/** Everything a person wrote (not the server's bookkeeping) as the exact bytes the API returns. */
function userBytes(object: Json): string {
  const {
    resourceVersion: _rv,
    generation: _g,
    managedFields: _m,
    ...metadata
  } = object.metadata as Json;
  return JSON.stringify({ ...object, metadata });
}

async function rejects(promise: Promise<unknown>, path: string, says: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RoutingProblem, `a RoutingProblem, got ${String(error)}`);
    assert.equal(error.problem.path, path);
    assert.match(error.problem.message, says);
    return true;
  });
}

describe("Istio VirtualService router", () => {
  test("a weight change leaves every other byte of the VirtualService as the person wrote it", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(VIRTUAL_SERVICES, namespace, personsVirtualService(namespace));
    const before = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    const router = istioRouter(namespace, ["primary"]);

    await router.setWeight(30);
    const after = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    assert.equal(userBytes(after), userBytes(withPrimaryWeights(before, 70, 30)));
    assert.deepEqual(await router.observe(), { canaryWeight: 30, headerRoutes: [] });

    await router.setWeight(30);
    const again = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    assert.equal(
      (again.metadata as Json).resourceVersion,
      (after.metadata as Json).resourceVersion,
      "no write when nothing differs",
    );
  });

  test("a stale weight patch is refused once someone else has changed the route", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(VIRTUAL_SERVICES, namespace, personsVirtualService(namespace));
    const stale = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    const target = hostLevelTarget(
      { name: "api-vs", routes: ["primary"] },
      {
        stable: "api-stable",
        canary: "api-canary",
        strategyField: "spec.strategy.canary",
        stableField: "stableService",
        canaryField: "canaryService",
      },
      namespace,
    );
    // Someone inserts a route at the top, so every index in a patch computed earlier is off by one.
    const inserted = { name: "hotfix", route: [{ destination: { host: "api-stable" } }] };
    await custom().patchNamespacedCustomObject(
      {
        ...VIRTUAL_SERVICES,
        namespace,
        name: "api-vs",
        body: [{ op: "add", path: "/spec/http/0", value: inserted }],
      },
      JSON_PATCH,
    );
    const edited = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    await assert.rejects(
      custom().patchNamespacedCustomObject(
        {
          ...VIRTUAL_SERVICES,
          namespace,
          name: "api-vs",
          body: virtualServiceWeightPatch(stale, target, 50),
        },
        JSON_PATCH,
      ),
      (error: unknown) => (error as { code?: number }).code === 422,
    );
    assert.equal(userBytes(await read(VIRTUAL_SERVICES, namespace, "api-vs")), userBytes(edited));
  });

  test("edits made by someone else while Aviary moves weights are all kept", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(VIRTUAL_SERVICES, namespace, personsVirtualService(namespace));
    const router = istioRouter(namespace, ["primary"]);
    const person = async () => {
      for (let i = 0; i < 8; i++) {
        const value = { name: `person-${i}`, route: [{ destination: { host: "api-stable" } }] };
        await custom().patchNamespacedCustomObject(
          {
            ...VIRTUAL_SERVICES,
            namespace,
            name: "api-vs",
            body: [{ op: "add", path: "/spec/http/0", value }],
          },
          JSON_PATCH,
        );
      }
    };
    const aviary = async () => {
      for (const weight of [10, 20, 30, 40, 50]) await router.setWeight(weight);
    };
    await Promise.all([person(), aviary()]);
    const after = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    const names = http(after).map((route) => route.name);
    for (let i = 0; i < 8; i++) assert.ok(names.includes(`person-${i}`), `person-${i} is kept`);
    assert.deepEqual(await router.observe(), { canaryWeight: 50, headerRoutes: [] });
    const primary = http(after).find((route) => route.name === "primary");
    assert.deepEqual(
      primary?.route.map((r) => r.weight),
      [50, 50],
    );
  });

  test("a header route sends matching requests to the canary, and removing it restores the VirtualService", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(VIRTUAL_SERVICES, namespace, personsVirtualService(namespace));
    const before = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    const router = istioRouter(namespace, ["primary"]);

    await router.setHeaderRoute("beta", [{ header: "x-user-group", exact: "beta-testers" }]);
    await router.setHeaderRoute("beta", [{ header: "x-user-group", exact: "beta-testers" }]);
    const during = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    assert.equal(http(during)[0]?.name, "aviary-beta");
    assert.equal(
      http(during).filter((route) => route.name === "aviary-beta").length,
      1,
      "added once",
    );
    const table = virtualServiceRoutes(during, namespace);
    assert.deepEqual(
      ruleFor(table, { "x-user-group": "beta-testers" })?.backends.map((b) => [
        b.service,
        b.weight,
      ]),
      [["api-canary", 100]],
    );
    assert.equal(
      ruleFor(table, { "x-debug": "1" })?.name,
      "debug",
      "the person's header route still matches",
    );
    assert.deepEqual(await router.observe(), { canaryWeight: 0, headerRoutes: ["beta"] });

    await router.removeHeaderRoute("beta");
    assert.equal(userBytes(await read(VIRTUAL_SERVICES, namespace, "api-vs")), userBytes(before));
    assert.deepEqual((await router.observe()).headerRoutes, []);
  });

  test("missing objects and routes are problems naming the Rollout field", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await rejects(
      istioRouter(namespace).setWeight(10),
      "spec.strategy.canary.trafficRouting.istio.virtualService.name",
      /VirtualService .*api-vs does not exist/,
    );
    await create(VIRTUAL_SERVICES, namespace, personsVirtualService(namespace));
    await rejects(
      istioRouter(namespace, ["main"]).observe(),
      "spec.strategy.canary.trafficRouting.istio.virtualService.routes",
      /no http route named "main"/,
    );
    await rejects(
      istioRouter(namespace).setWeight(10),
      "spec.strategy.canary.trafficRouting.istio.virtualService.routes",
      /has 3 http routes; list the ones/,
    );
  });
});

describe("Istio DestinationRule router (subset-level)", () => {
  test("subsets select hashes by label and weights move by subset; nothing else changes", async (t) => {
    const namespace = await testNamespace(t, "tr");
    const dr = {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "api-dr", namespace },
      spec: {
        host: "api",
        trafficPolicy: { connectionPool: { tcp: { maxConnections: 100 } } },
        subsets: [
          { name: "v1", labels: { app: "api", [POD_TEMPLATE_HASH_LABEL]: "aaa111" } },
          {
            name: "v2",
            labels: { app: "api" },
            trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" } },
          },
        ],
      },
    };
    const vs = {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "api-vs", namespace },
      spec: {
        hosts: ["api"],
        http: [
          {
            name: "primary",
            retries: { attempts: 2 },
            route: [
              { destination: { host: "api", subset: "v1" }, weight: 100 },
              { destination: { host: "api", subset: "v2" }, weight: 0 },
            ],
          },
        ],
      },
    };
    await create(DESTINATION_RULES, namespace, dr);
    await create(VIRTUAL_SERVICES, namespace, vs);
    const drBefore = await read(DESTINATION_RULES, namespace, "api-dr");
    const vsBefore = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    const router = routerFor(
      rollout(namespace, {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          trafficRouting: {
            istio: {
              virtualService: { name: "api-vs", routes: ["primary"] },
              destinationRule: { name: "api-dr", stableSubset: "v1", canarySubset: "v2" },
            },
          },
        },
      }),
      kubeConfig(),
    );
    assert.ok(router?.subsets);
    assert.deepEqual(await router.subsets.observe(), { stable: "aaa111", canary: undefined });

    await router.subsets.select("canary", "bbb222");
    assert.deepEqual(await router.subsets.observe(), { stable: "aaa111", canary: "bbb222" });
    const drExpected = structuredClone(drBefore) as {
      spec: { subsets: { labels: Json }[] };
    } & Json;
    (drExpected.spec.subsets[1] as { labels: Json }).labels[POD_TEMPLATE_HASH_LABEL] = "bbb222";
    assert.equal(
      userBytes(await read(DESTINATION_RULES, namespace, "api-dr")),
      userBytes(drExpected),
    );

    await router.setWeight(40);
    assert.equal(
      userBytes(await read(VIRTUAL_SERVICES, namespace, "api-vs")),
      userBytes(withPrimaryWeights(vsBefore, 60, 40)),
    );
    await router.setHeaderRoute("beta", [{ header: "x-beta", prefix: "yes" }]);
    const during = await read(VIRTUAL_SERVICES, namespace, "api-vs");
    assert.deepEqual(
      ruleFor(virtualServiceRoutes(during, namespace), { "x-beta": "yes-please" })?.backends.map(
        (b) => b.subset,
      ),
      ["v2"],
    );

    await rejects(
      routerFor(
        rollout(namespace, {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            trafficRouting: {
              istio: {
                virtualService: { name: "api-vs" },
                destinationRule: { name: "api-dr", stableSubset: "v1", canarySubset: "v3" },
              },
            },
          },
        }),
        kubeConfig(),
      )?.subsets?.select("canary", "x") ?? Promise.resolve(),
      "spec.strategy.canary.trafficRouting.istio.destinationRule.canarySubset",
      /no subset named "v3"/,
    );
  });

  test("a missing DestinationRule names its field", async (t) => {
    const namespace = await testNamespace(t, "tr");
    const router = routerFor(
      rollout(namespace, {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          trafficRouting: {
            istio: {
              virtualService: { name: "api-vs" },
              destinationRule: { name: "nope", stableSubset: "a", canarySubset: "b" },
            },
          },
        },
      }),
      kubeConfig(),
    );
    await rejects(
      router?.subsets?.observe() ?? Promise.resolve(),
      "spec.strategy.canary.trafficRouting.istio.destinationRule.name",
      /DestinationRule .*nope does not exist/,
    );
  });
});

describe("Gateway API HTTPRoute router", () => {
  function linkerdRoute(namespace: string): Json {
    return {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "api", namespace },
      spec: {
        parentRefs: [{ group: "core", kind: "Service", name: "api", port: 80 }],
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: "/admin" } }],
            backendRefs: [{ name: "admin", port: 80 }],
          },
          {
            matches: [{ path: { type: "PathPrefix", value: "/" } }],
            filters: [
              {
                type: "RequestHeaderModifier",
                requestHeaderModifier: { set: [{ name: "x-team", value: "shop" }] },
              },
              { type: "ResponseHeaderModifier", responseHeaderModifier: { remove: ["server"] } },
            ],
            timeouts: { request: "5s" },
            backendRefs: [
              { name: "api-stable", port: 80, weight: 100 },
              {
                name: "api-canary",
                port: 80,
                weight: 0,
                filters: [
                  {
                    type: "RequestHeaderModifier",
                    requestHeaderModifier: { add: [{ name: "x-canary", value: "1" }] },
                  },
                ],
              },
            ],
          },
        ],
      },
    };
  }

  function gatewayRouter(namespace: string, name = "api"): TrafficRouter {
    const router = routerFor(
      rollout(namespace, {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          trafficRouting: { gatewayAPI: { httpRoute: { name } } },
        },
      }),
      kubeConfig(),
    );
    assert.ok(router);
    return router;
  }

  type Rule = { name?: string; backendRefs: Json[] };
  const rules = (route: Json): Rule[] => (route.spec as { rules: Rule[] }).rules;

  test("weights change and the person's filters, timeouts and other rules are kept (Service parent)", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(HTTP_ROUTES, namespace, linkerdRoute(namespace));
    const before = await read(HTTP_ROUTES, namespace, "api");
    const router = gatewayRouter(namespace);

    await router.setWeight(20);
    const expected = structuredClone(before);
    const weighted = rules(expected)[1];
    assert.ok(weighted?.backendRefs[0] && weighted.backendRefs[1]);
    weighted.backendRefs[0].weight = 80;
    weighted.backendRefs[1].weight = 20;
    assert.equal(userBytes(await read(HTTP_ROUTES, namespace, "api")), userBytes(expected));
    assert.deepEqual(await router.observe(), { canaryWeight: 20, headerRoutes: [] });
    assert.equal(
      (await router.observe()).pending,
      undefined,
      "no controller reports on it: accepted",
    );
  });

  test("a header rule goes on top with the canary backend, is added once, and is removed by name", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(HTTP_ROUTES, namespace, linkerdRoute(namespace));
    const before = await read(HTTP_ROUTES, namespace, "api");
    const router = gatewayRouter(namespace);
    const match = [
      { header: "x-user-group", exact: "beta-testers" },
      { header: "x-client", prefix: "app/2." },
    ];

    await router.setHeaderRoute("beta", match);
    const during = await read(HTTP_ROUTES, namespace, "api");
    await router.setHeaderRoute("beta", match);
    const again = await read(HTTP_ROUTES, namespace, "api");
    assert.equal(
      (again.metadata as Json).resourceVersion,
      (during.metadata as Json).resourceVersion,
      "no second write",
    );
    assert.equal(rules(during)[0]?.name, "aviary-beta");
    const table = httpRouteRoutes(during, namespace);
    const beta = ruleFor(table, { "x-user-group": "beta-testers", "x-client": "app/2.1" });
    assert.deepEqual(
      beta?.backends.map((b) => b.service),
      ["api-canary"],
    );
    assert.notEqual(
      ruleFor(table, { "x-user-group": "beta-testers", "x-client": "app/20" })?.name,
      "aviary-beta",
    );
    assert.deepEqual(await router.observe(), { canaryWeight: 0, headerRoutes: ["beta"] });

    await router.removeHeaderRoute("beta");
    assert.equal(userBytes(await read(HTTP_ROUTES, namespace, "api")), userBytes(before));
  });

  test("parents that report on the route must have accepted it", async (t) => {
    const namespace = await testNamespace(t, "tr");
    await create(HTTP_ROUTES, namespace, linkerdRoute(namespace));
    const parent = (status: string) => ({
      parentRef: { group: "core", kind: "Service", name: "api", port: 80 },
      controllerName: "linkerd.io/gateway-controller",
      conditions: [
        {
          type: "Accepted",
          status,
          reason: status === "True" ? "Accepted" : "NoMatchingParent",
          message: "checked",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    });
    const router = gatewayRouter(namespace);
    for (const [status, accepted] of [
      ["False", false],
      ["True", true],
    ] as const) {
      await custom().patchNamespacedCustomObjectStatus(
        { ...HTTP_ROUTES, namespace, name: "api", body: { status: { parents: [parent(status)] } } },
        MERGE_PATCH,
      );
      assert.equal((await router.observe()).pending === undefined, accepted, `Accepted=${status}`);
    }
  });

  test("a missing HTTPRoute or one without both Services names the httpRoute field", async (t) => {
    const namespace = await testNamespace(t, "tr");
    const field = "spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute.name";
    await rejects(
      gatewayRouter(namespace, "nope").setWeight(5),
      field,
      /HTTPRoute .*nope does not exist/,
    );
    const route = linkerdRoute(namespace);
    (route.spec as { rules: unknown[] }).rules = [
      { backendRefs: [{ name: "api-stable", port: 80 }] },
    ];
    await create(HTTP_ROUTES, namespace, route);
    await rejects(
      gatewayRouter(namespace).observe(),
      field,
      /no rule whose backendRefs include both/,
    );
  });
});

describe("router selection", () => {
  test("blue/green routes between the active and preview Services", async (t) => {
    const namespace = await testNamespace(t, "tr");
    const vs = personsVirtualService(namespace);
    for (const route of http(vs))
      for (const entry of route.route)
        entry.destination.host = String(entry.destination.host)
          .replace("-stable", "-active")
          .replace("-canary", "-preview");
    await create(VIRTUAL_SERVICES, namespace, vs);
    const router = routerFor(
      rollout(namespace, {
        blueGreen: {
          activeService: "api-active",
          previewService: "api-preview",
          trafficRouting: { istio: { virtualService: { name: "api-vs", routes: ["primary"] } } },
        },
      }),
      kubeConfig(),
    );
    assert.ok(router);
    await router.setWeight(100);
    const primary = http(await read(VIRTUAL_SERVICES, namespace, "api-vs")).find(
      (route) => route.name === "primary",
    );
    assert.deepEqual(
      primary?.route.map((r) => [String(r.destination.host).split(".")[0], r.weight]),
      [
        ["api-active", 0],
        ["api-preview", 100],
      ],
    );
    assert.equal(
      routerFor(
        rollout(namespace, { canary: { stableService: "a", canaryService: "b" } }),
        kubeConfig(),
      ),
      undefined,
    );
  });
});
