import { z } from "zod";
import type { Problem } from "../core/plan.ts";
import { isSchemaNode, makeStructural } from "./crd/structural.ts";
import type { SchemaNode } from "./crd/structural.ts";

/**
 * Turns schema violations into Problems a person can act on: a field path such as
 * `spec.strategy.canary.steps[2].setWeight` and a sentence with the rule and the value
 * found. The JSON Schema of the zod schema supplies what an issue alone does not say
 * (both bounds of a range, whether a number must be an integer, the known fields).
 */

type PathKey = PropertyKey;

const jsonSchemas = new WeakMap<z.ZodType, SchemaNode>();

function jsonSchemaOf(schema: z.ZodType): SchemaNode {
  let json = jsonSchemas.get(schema);
  if (json === undefined) {
    json = makeStructural(z.toJSONSchema(schema, { target: "openapi-3.0", io: "input" }));
    jsonSchemas.set(schema, json);
  }
  return json;
}

/** `spec.steps[2].setWeight`; keys that are not identifiers are quoted: `labels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${String(key)}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$-]*$/.test(key))
      out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function nodeAt(root: SchemaNode, path: readonly PathKey[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const key of path) {
    if (node === undefined) return undefined;
    const properties: unknown = node.properties;
    if (typeof key === "number" && isSchemaNode(node.items)) node = node.items;
    else if (isSchemaNode(properties) && typeof key === "string" && isSchemaNode(properties[key]))
      node = properties[key];
    else if (isSchemaNode(node.additionalProperties)) node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null || typeof key === "symbol") return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** How a value reads in a sentence: strings quoted, containers named. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return typeof value;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  int: "an integer",
  boolean: "true or false",
  object: "a mapping (key: value)",
  record: "a mapping (key: value)",
  array: "a list",
};

function typeName(node: SchemaNode | undefined, fallback: string): string {
  const type = typeof node?.type === "string" ? node.type : fallback;
  return TYPE_NAMES[type] ?? type;
}

function rangeSentence(node: SchemaNode | undefined, fallbackType: string): string {
  const kind = typeName(node, fallbackType);
  const min = node?.minimum;
  const max = node?.maximum;
  const above = node?.exclusiveMinimum === true ? "greater than" : "at least";
  const below = node?.exclusiveMaximum === true ? "less than" : "at most";
  if (typeof min === "number" && typeof max === "number") {
    if (node?.exclusiveMinimum !== true && node?.exclusiveMaximum !== true)
      return `${kind} from ${min} to ${max}`;
    return `${kind} ${above} ${min} and ${below} ${max}`;
  }
  if (typeof min === "number") return `${kind} ${above} ${min}`;
  if (typeof max === "number") return `${kind} ${below} ${max}`;
  return kind;
}

function issueSentence(
  issue: z.core.$ZodIssue,
  node: SchemaNode | undefined,
  value: unknown,
): string {
  const got = `got ${describeValue(value)}`;
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `is required: add ${typeName(node, issue.expected)}`;
      return `must be ${typeName(node, issue.expected)}, ${got}`;
    case "too_small":
    case "too_big":
      return sizeSentence(issue, node, value);
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; ${got}`;
    case "invalid_format":
      if (issue.format === "url")
        return `must be an http(s) URL such as "http://prometheus.monitoring:9090", ${got}`;
      // A custom message on a pattern is written as what the value must be.
      if (issue.format === "regex" && !issue.message.startsWith("Invalid"))
        return `must be ${issue.message}, ${got}`;
      return `must be a valid ${issue.format}, ${got}`;
    case "unrecognized_keys":
      return `has unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}: remove or correct them`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}, ${got}`;
    case "invalid_key":
    case "invalid_element":
    case "invalid_union":
    case "custom":
      return issue.message;
  }
}

function sizeSentence(
  issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall,
  node: SchemaNode | undefined,
  value: unknown,
): string {
  const bound = Number("maximum" in issue ? issue.maximum : issue.minimum);
  if (issue.origin === "string") {
    const length = typeof value === "string" ? value.length : 0;
    if (issue.code === "too_small" && bound === 1) return "must not be empty";
    return issue.code === "too_small"
      ? `must be at least ${bound} characters long, got ${length}`
      : `must be at most ${bound} characters long, got ${length}`;
  }
  if (issue.origin === "array") {
    const count = Array.isArray(value) ? value.length : 0;
    if (issue.code === "too_small")
      return bound === 1 ? "needs at least one item" : `needs at least ${bound} items`;
    return `has ${count} items; at most ${bound} are allowed`;
  }
  return `must be ${rangeSentence(node, "number")}, got ${describeValue(value)}`;
}

/** One Problem per zod issue, in the order zod found them. */
export function zodProblems(schema: z.ZodType, error: z.ZodError, input: unknown): Problem[] {
  const root = jsonSchemaOf(schema);
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issueSentence(issue, nodeAt(root, issue.path), valueAt(input, issue.path)),
  }));
}

/**
 * Fields the schema does not know. The API server drops them silently, so a typo such as
 * `setWieght` would change the release without a word; kubectl's strict validation
 * rejects them, and so do we. `skip` names top-level fields owned by someone else.
 */
export function unknownFieldProblems(
  schema: z.ZodType,
  input: unknown,
  skip: readonly string[] = ["metadata"],
): Problem[] {
  const problems: Problem[] = [];
  const visit = (node: SchemaNode, value: unknown, path: PathKey[]) => {
    if (
      typeof value !== "object" ||
      value === null ||
      node["x-kubernetes-preserve-unknown-fields"] === true
    )
      return;
    if (Array.isArray(value)) {
      if (isSchemaNode(node.items))
        value.forEach((item, index) => visit(node.items as SchemaNode, item, [...path, index]));
      return;
    }
    const properties = node.properties;
    for (const [key, child] of Object.entries(value)) {
      if (path.length === 0 && skip.includes(key)) continue;
      if (isSchemaNode(properties)) {
        const known = properties[key];
        if (isSchemaNode(known)) visit(known, child, [...path, key]);
        else
          problems.push({
            path: formatPath([...path, key]),
            message: unknownFieldSentence(key, Object.keys(properties)),
          });
      } else if (isSchemaNode(node.additionalProperties)) {
        visit(node.additionalProperties, child, [...path, key]);
      }
    }
  };
  visit(jsonSchemaOf(schema), input, []);
  return problems;
}

function unknownFieldSentence(key: string, known: readonly string[]): string {
  const guess = known.find((name) => editDistance(name.toLowerCase(), key.toLowerCase()) <= 2);
  const hint =
    guess === undefined ? `known fields here: ${known.join(", ")}` : `did you mean ${guess}?`;
  return `is not a known field; ${hint}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
