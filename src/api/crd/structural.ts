/**
 * Turns the JSON Schema zod emits into a structural schema the Kubernetes API server
 * accepts as a CRD's openAPIV3Schema, and lints a schema for the rules that make it
 * structural. Pure functions over plain JSON.
 */

export type SchemaNode = Record<string, unknown>;

/** zod's bounds for z.int(): meaningless in a CRD, and they bloat it. */
const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

const PRESERVE = "x-kubernetes-preserve-unknown-fields";

/** Keywords in the order they are written; anything else follows, alphabetically. */
const KEYWORD_ORDER = [
  "description",
  "type",
  "format",
  "enum",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "minItems",
  "maxItems",
  "nullable",
  PRESERVE,
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-validations",
  "required",
  "properties",
  "additionalProperties",
  "items",
];

/** Sub-schema holders whose values are themselves schemas. */
const UNION_KEYWORDS = ["anyOf", "oneOf", "allOf", "not"];

export function isSchemaNode(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Thrown for a schema the generator cannot make structural; the message says what to change. */
export class NonStructuralSchemaError extends Error {}

/**
 * Returns a structural copy of `node`. `path` names the node in errors (e.g. "spec.steps[]").
 * Throws NonStructuralSchemaError for unions and references, which have no structural form.
 */
export function makeStructural(node: SchemaNode, path = ""): SchemaNode {
  for (const keyword of [...UNION_KEYWORDS, "$ref"]) {
    if (keyword in node) {
      throw new NonStructuralSchemaError(
        `${path || "<root>"}: the zod schema produced "${keyword}", which a CRD cannot use structurally; ` +
          `write optional siblings plus a CEL rule in .meta() instead of a union or a shared $ref`,
      );
    }
  }
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    // Aviary applies defaults when it parses a Rollout. The API server must not: Argo CD
    // would see every server-defaulted field as drift from what is in Git.
    if (key === "default" || key === "$schema" || key === "id" || key === "$id") continue;
    if (
      (key === "minimum" || key === "maximum") &&
      typeof value === "number" &&
      Math.abs(value) >= SAFE_INTEGER_BOUND
    )
      continue;
    if (key === "properties" && isSchemaNode(value)) {
      const properties: SchemaNode = {};
      for (const [name, child] of Object.entries(value)) {
        properties[name] = isSchemaNode(child) ? makeStructural(child, join(path, name)) : child;
      }
      out[key] = properties;
    } else if ((key === "items" || key === "additionalProperties") && isSchemaNode(value)) {
      out[key] = makeStructural(value, key === "items" ? `${path}[]` : `${path}{}`);
    } else {
      out[key] = value;
    }
  }
  // Beside `properties` (strict or loose zod objects) or preserve-unknown-fields,
  // additionalProperties is either meaningless or rejected by the API server.
  if ("properties" in out || out[PRESERVE] === true) delete out.additionalProperties;
  if (out[PRESERVE] === true && out.type === undefined) out.type = "object";
  const extra = out.additionalProperties;
  if (extra === true || (isSchemaNode(extra) && extra.type === undefined)) {
    throw new NonStructuralSchemaError(
      `${path || "<root>"}: a map of untyped values; give z.record() a value type, or mark the field ` +
        `with .meta({ "x-kubernetes-preserve-unknown-fields": true })`,
    );
  }
  return orderKeys(out);
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function orderKeys(node: SchemaNode): SchemaNode {
  const rank = (key: string) => {
    const index = KEYWORD_ORDER.indexOf(key);
    return index === -1 ? KEYWORD_ORDER.length : index;
  };
  const keys = Object.keys(node).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(keys.map((key) => [key, node[key]]));
}

/**
 * Every way `schema` breaks the structural rules, as "path: problem" lines; empty when
 * the schema is structural. Checks what the API server checks that zod can get wrong.
 */
export function structuralProblems(schema: SchemaNode): string[] {
  const problems: string[] = [];
  const visit = (node: SchemaNode, path: string, insideUnion: boolean) => {
    const where = path || "<root>";
    if ("properties" in node && "additionalProperties" in node)
      problems.push(`${where}: additionalProperties beside properties`);
    if (insideUnion && "type" in node) problems.push(`${where}: type inside anyOf/oneOf/allOf/not`);
    if (!insideUnion && node.type === undefined && node["x-kubernetes-int-or-string"] !== true)
      problems.push(`${where}: no type`);
    if (node[PRESERVE] === true) {
      if (node.type !== "object")
        problems.push(`${where}: preserve-unknown-fields on a node that is not type object`);
      if ("additionalProperties" in node)
        problems.push(`${where}: additionalProperties beside preserve-unknown-fields`);
    }
    if (
      ("properties" in node || "additionalProperties" in node) &&
      !insideUnion &&
      node.type !== "object"
    )
      problems.push(`${where}: properties on a node that is not type object`);
    if ("default" in node) problems.push(`${where}: default (Aviary applies defaults itself)`);
    if ("$ref" in node) problems.push(`${where}: $ref`);
    const properties = node.properties;
    if (isSchemaNode(properties)) {
      for (const [name, child] of Object.entries(properties)) {
        if (isSchemaNode(child)) visit(child, join(path, name), insideUnion);
      }
    }
    if (isSchemaNode(node.items)) visit(node.items, `${path}[]`, insideUnion);
    if (isSchemaNode(node.additionalProperties))
      visit(node.additionalProperties, `${path}{}`, insideUnion);
    for (const keyword of UNION_KEYWORDS) {
      const branches = node[keyword];
      const list = Array.isArray(branches) ? branches : [branches];
      for (const [index, branch] of list.entries()) {
        if (isSchemaNode(branch)) visit(branch, `${path}(${keyword}${String(index)})`, true);
      }
    }
  };
  visit(schema, "", false);
  return problems;
}
