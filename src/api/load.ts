import { parseAllDocuments } from "yaml";
import type { z } from "zod";
import type { Problem } from "../core/plan.ts";
import { MetricTemplate } from "./metric-template.ts";
import { GROUP, Rollout, VERSION } from "./rollout.ts";
import { describeValue, unknownFieldProblems, zodProblems } from "./schema-problems.ts";
import { validateRollout } from "./validate.ts";

/**
 * Reading Rollouts and MetricTemplates from text or from objects the API server returned.
 * Never throws for bad input: every problem comes back with a field path and a sentence.
 */

export interface Invalid {
  ok: false;
  problems: Problem[];
}
export type ParsedRollout = { ok: true; rollout: Rollout } | Invalid;
export type ParsedMetricTemplate = { ok: true; template: MetricTemplate } | Invalid;
type Parsed<T> = { ok: true; value: T } | Invalid;

const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * Reads the Rollout in a YAML (or JSON) text. The text may hold several documents, as
 * kubectl files often do (a Rollout beside its Services); the one Rollout is picked.
 * `source` (a file name) prefixes problems that concern the whole text.
 */
export function parseRolloutText(text: string, source = "input"): ParsedRollout {
  const documents = parseAllDocuments(text);
  const problems: Problem[] = [];
  for (const [index, document] of documents.entries()) {
    for (const error of document.errors) {
      const where = error.linePos?.[0];
      const at = where === undefined ? "" : ` at line ${where.line}, column ${where.col}`;
      const doc = documents.length > 1 ? ` (document ${index + 1})` : "";
      problems.push({
        path: source,
        message: `is not valid YAML${at}${doc}: ${firstLine(error.message)}`,
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const objects: unknown[] = documents
    .map((document) => document.toJS({ maxAliasCount: 100 }) as unknown)
    .filter((o) => o != null);
  if (objects.length === 0) {
    return fail(
      source,
      "is empty: it should hold a Rollout (apiVersion: aviary.dev/v1alpha1, kind: Rollout)",
    );
  }
  if (objects.length === 1) return nameWholeObject(parseRollout(objects[0]), source);

  const rollouts = objects.filter((object) => fieldOf(object, "kind") === "Rollout");
  const ours = rollouts.filter((object) => fieldOf(object, "apiVersion") === API_VERSION);
  const picked = ours.length > 0 ? ours : rollouts;
  if (picked.length === 1) return nameWholeObject(parseRollout(picked[0]), source);
  if (picked.length === 0) {
    const found = objects.map(describeObject).join(", ");
    return fail(
      source,
      `holds ${objects.length} documents and none is a Rollout (found ${found}): add a Rollout with apiVersion: ${API_VERSION}`,
    );
  }
  const names = picked.map(describeObject).join(", ");
  return fail(source, `holds ${picked.length} Rollouts (${names}): keep one Rollout per file`);
}

/** Validates an object (already parsed from YAML or read from the API server) as a Rollout. */
export function parseRollout(object: unknown): ParsedRollout {
  const parsed = parseResource(Rollout, "Rollout", object, validateRollout);
  return parsed.ok ? { ok: true, rollout: parsed.value } : parsed;
}

export function parseMetricTemplate(object: unknown): ParsedMetricTemplate {
  const parsed = parseResource(MetricTemplate, "MetricTemplate", object, () => []);
  return parsed.ok ? { ok: true, template: parsed.value } : parsed;
}

/** Identity (apiVersion, kind), then the schema, then the semantic rules once the schema holds. */
function parseResource<S extends z.ZodType>(
  schema: S,
  kind: string,
  object: unknown,
  semantic: (value: z.output<S>) => Problem[],
): Parsed<z.output<S>> {
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    const message = `must be a mapping with apiVersion: ${API_VERSION}, kind: ${kind}, metadata and spec; got ${describeValue(object)}`;
    return fail("", message);
  }
  const identity: Problem[] = [];
  const apiVersion = fieldOf(object, "apiVersion");
  const actualKind = fieldOf(object, "kind");
  if (actualKind !== kind) {
    const got = actualKind === undefined ? "is missing" : `is ${describeValue(actualKind)}`;
    identity.push({ path: "kind", message: `${got}: this is not a ${kind}; set kind: ${kind}` });
  }
  if (apiVersion !== API_VERSION) {
    const got = apiVersion === undefined ? "is missing" : `is ${describeValue(apiVersion)}`;
    const hint = apiVersion === "argoproj.io/v1alpha1" ? " (that is an Argo Rollout)" : "";
    identity.push({
      path: "apiVersion",
      message: `${got}${hint}: Aviary reads apiVersion: ${API_VERSION}`,
    });
  }
  if (identity.length > 0) return { ok: false, problems: identity };

  const result = schema.safeParse(object);
  const unknownFields = unknownFieldProblems(schema, object);
  if (!result.success)
    return {
      ok: false,
      problems: [...zodProblems(schema, result.error, object), ...unknownFields],
    };
  const problems = [...unknownFields, ...semantic(result.data)];
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: result.data };
}

/** Problems with the path "" concern the whole object; in a file, that is the file. */
function nameWholeObject(parsed: ParsedRollout, source: string): ParsedRollout {
  if (parsed.ok) return parsed;
  return {
    ok: false,
    problems: parsed.problems.map((p) => (p.path === "" ? { ...p, path: source } : p)),
  };
}

function fail(path: string, message: string): Invalid {
  return { ok: false, problems: [{ path, message }] };
}

function fieldOf(object: unknown, key: string): unknown {
  return typeof object === "object" && object !== null
    ? (object as Record<string, unknown>)[key]
    : undefined;
}

function describeObject(object: unknown): string {
  const kind = fieldOf(object, "kind");
  const name = fieldOf(fieldOf(object, "metadata"), "name");
  const label = typeof kind === "string" ? kind : describeValue(object);
  return typeof name === "string" ? `${label} ${name}` : label;
}

/** The parser's message without its position (we say it once) and code excerpt. */
function firstLine(text: string): string {
  return (text.split("\n")[0] ?? text).replace(/ at line \d+, column \d+:?$/, "");
}
