import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import type { Problem } from "../core/plan.ts";
import { FIELD_MANAGER } from "../api/labels.ts";
import { applyJsonPatch, asObject, asString, type Json, type JsonPatchOp } from "./json-patch.ts";
import { RoutingProblem } from "./router.ts";

/** A custom resource kind a router edits, with the versions to try in order of preference. */
export interface RoutingResource {
  group: string;
  versions: readonly string[];
  plural: string;
  kind: string;
  /**
   * The `spec` lists Aviary edits. Istio's and Gateway API's CRDs declare them atomic (no
   * list-map keys), so server-side apply can only own such a list whole: Aviary's apply
   * holds that list and its own annotations, nothing else of the object.
   */
  owned: readonly string[];
}

export const VIRTUAL_SERVICES: RoutingResource = {
  group: "networking.istio.io",
  versions: ["v1", "v1beta1"],
  plural: "virtualservices",
  kind: "VirtualService",
  owned: ["http"],
};
export const DESTINATION_RULES: RoutingResource = {
  group: "networking.istio.io",
  versions: ["v1", "v1beta1"],
  plural: "destinationrules",
  kind: "DestinationRule",
  owned: ["subsets"],
};
export const HTTP_ROUTES: RoutingResource = {
  group: "gateway.networking.k8s.io",
  versions: ["v1"],
  plural: "httproutes",
  kind: "HTTPRoute",
  owned: ["rules"],
};

/**
 * Where routers read routing objects before asking the API server: the controller's watch
 * cache, with its own writes laid over it until the watch delivers them.
 */
export interface RoutingReads {
  /** The freshest known object; undefined when the cache cannot say (not synced, not there): GET it. */
  read(resource: RoutingResource, namespace: string, name: string): Json | undefined;
  /** What a write returned, replacing the version `replaced`. */
  wrote(
    resource: RoutingResource,
    namespace: string,
    name: string,
    replaced: string | undefined,
    object: Json,
  ): void;
}

const MAX_ATTEMPTS = 6;
const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const APPLY = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
/** The annotations Aviary writes on routing objects (claims); all others are someone else's. */
const OWN_ANNOTATION_PREFIX = "aviary.dev/managed-";
/** What the API server answers when a JSON Patch `test` fails (a validation failure has details). */
const FAILED_TEST_MESSAGE = "the server rejected our request due to an error in our request";

interface ApiStatus {
  reason?: string;
  message?: string;
  details?: { name?: string; causes?: unknown[] };
}

function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

function errorStatus(error: unknown): ApiStatus | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === "object" && body !== null) return body;
  if (typeof body !== "string") return undefined;
  try {
    return JSON.parse(body) as ApiStatus;
  } catch {
    return undefined;
  }
}

/** A 409, or a 422 from a failed `test`: someone else changed the object; try again with fresh data. */
function isLostRace(error: unknown): boolean {
  const code = errorCode(error);
  if (code === 409) return true;
  const status = errorStatus(error);
  return (
    code === 422 &&
    status?.message === FAILED_TEST_MESSAGE &&
    (status.details?.causes ?? []).length === 0
  );
}

/**
 * One named routing object (VirtualService, DestinationRule, HTTPRoute) in one namespace:
 * reads it, and applies guarded JSON Patches computed from fresh reads until one lands.
 */
export class RoutingObject {
  private readonly api: CustomObjectsApi;
  private version: string | undefined;
  /** The last read, reused by later reads of the same reconcile (routes and claims in one GET). */
  private lastRead: Json | undefined;

  constructor(
    kubeConfig: KubeConfig,
    readonly resource: RoutingResource,
    readonly namespace: string,
    readonly name: string,
    /** The Rollout field that names this object, for problems. */
    private readonly field: string,
    private readonly reads?: RoutingReads,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private problem(message: string): RoutingProblem {
    const problem: Problem = { path: this.field, message };
    return new RoutingProblem(problem);
  }

  private coordinates(version: string) {
    const { group, plural } = this.resource;
    return { group, version, plural, namespace: this.namespace, name: this.name };
  }

  /** The object as it is now: from the watch cache when it holds it, else from the API server. */
  async get(): Promise<Json> {
    const cached = this.reads?.read(this.resource, this.namespace, this.name);
    this.lastRead = cached === undefined ? await this.fetch() : structuredClone(cached);
    return this.lastRead;
  }

  /** A read from the API server, bypassing the cache (after a lost race). */
  async fresh(): Promise<Json> {
    this.lastRead = await this.fetch();
    return this.lastRead;
  }

  /** The object as this router last read or wrote it (routes and claims from one GET). */
  async peek(): Promise<Json> {
    return this.lastRead ?? (await this.get());
  }

  /** Whether the object exists (a missing one needs no cleanup). */
  async exists(): Promise<boolean> {
    try {
      await this.peek();
      return true;
    } catch (error) {
      if (error instanceof RoutingProblem && this.missing) return false;
      throw error;
    }
  }

  private missing = false;

  private async fetch(): Promise<Json> {
    const versions = this.version ? [this.version] : this.resource.versions;
    for (const version of versions) {
      try {
        const object = (await this.api.getNamespacedCustomObject(
          this.coordinates(version),
        )) as Json;
        this.version = version;
        return object;
      } catch (error) {
        if (errorCode(error) !== 404) throw error;
        // A NotFound Status names the object; a bare 404 means this version is not served.
        if (errorStatus(error)?.reason === "NotFound") {
          this.missing = true;
          const { kind } = this.resource;
          throw this.problem(
            `${kind} ${this.namespace}/${this.name} does not exist; create it or fix the name in the Rollout.`,
          );
        }
      }
    }
    const { plural, group } = this.resource;
    throw this.problem(
      `the API server serves none of ${versions.join(", ")} for ${plural}.${group}; install its CRDs in the cluster.`,
    );
  }

  /**
   * Reads the object, asks `compute` for the patch that brings it where it should be, and
   * sends the result. An empty patch means nothing differs: no write. A lost race is
   * retried with fresh data; `compute` may throw RoutingProblem.
   */
  async update(compute: (object: Json) => JsonPatchOp[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // The cache first; after a lost race it was behind, so the API server.
      const object = attempt === 1 ? await this.get() : await this.fresh();
      const ops = compute(object);
      if (ops.length === 0) return;
      try {
        const written = await this.send(object, ops);
        this.lastRead = written;
        const replaced = asString(asObject(object.metadata).resourceVersion);
        this.reads?.wrote(this.resource, this.namespace, this.name, replaced, written);
        return;
      } catch (error) {
        this.lastRead = undefined;
        if (isLostRace(error)) {
          // Transient, not the spec's fault: a plain error, so the caller requeues with backoff.
          if (attempt >= MAX_ATTEMPTS)
            throw new Error(
              `${this.resource.kind} ${this.namespace}/${this.name} changed ${MAX_ATTEMPTS} times while Aviary was editing it; try again later.`,
              { cause: error },
            );
          await sleep(20 * attempt);
          continue;
        }
        if (errorCode(error) === 422) {
          const reason = errorStatus(error)?.message ?? String(error);
          throw this.problem(
            `the API server rejected Aviary's change to ${this.resource.kind} ${this.name}: ${reason}. Fix the object so it validates.`,
          );
        }
        throw error;
      }
    }
  }

  /**
   * Server-side apply, as field manager `aviary`, of only what Aviary owns in the patched
   * object: the edited lists and Aviary's annotations. It is forced, because those fields
   * are Aviary's to set (a person's or Argo CD's edit of them is what Aviary corrects);
   * every other field keeps its manager. The resourceVersion read is a precondition, so a
   * change made meanwhile is never overwritten (409, retried on fresh data). Removing an
   * annotation goes as a JSON Patch instead: an apply that omits a field removes it only
   * when no other manager shares it.
   */
  private async send(object: Json, ops: JsonPatchOp[]): Promise<Json> {
    const coordinates = this.coordinates(this.version ?? this.resource.versions[0] ?? "v1");
    const next = applyJsonPatch(object, ops);
    const own = ownAnnotations(next);
    const dropped = Object.keys(ownAnnotations(object)).some((key) => !(key in own));
    if (dropped)
      return (await this.api.patchNamespacedCustomObject(
        { ...coordinates, body: ops, fieldManager: FIELD_MANAGER },
        JSON_PATCH,
      )) as Json;
    const metadata = asObject(object.metadata);
    const nextSpec = asObject(next.spec);
    const spec: Json = {};
    for (const field of this.resource.owned) if (field in nextSpec) spec[field] = nextSpec[field];
    const body: Json = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: {
        name: this.name,
        namespace: this.namespace,
        resourceVersion: metadata.resourceVersion,
        ...(Object.keys(own).length > 0 ? { annotations: own } : {}),
      },
      spec,
    };
    return (await this.api.patchNamespacedCustomObject(
      { ...coordinates, body, fieldManager: FIELD_MANAGER, force: true },
      APPLY,
    )) as Json;
  }
}

function ownAnnotations(object: Json): Record<string, unknown> {
  const annotations = asObject(asObject(object.metadata).annotations);
  return Object.fromEntries(
    Object.entries(annotations).filter(([key]) => key.startsWith(OWN_ANNOTATION_PREFIX)),
  );
}
