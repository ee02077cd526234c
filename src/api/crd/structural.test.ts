import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { makeStructural, NonStructuralSchemaError, structuralProblems } from "./structural.ts";

describe("makeStructural", () => {
  test("drops additionalProperties beside properties, for strict and loose objects", () => {
    const strict = makeStructural({
      type: "object",
      properties: { a: { type: "string" } },
      additionalProperties: false,
    });
    const loose = makeStructural({
      type: "object",
      properties: { a: { type: "string" } },
      additionalProperties: {},
    });
    assert.deepEqual(strict, { type: "object", properties: { a: { type: "string" } } });
    assert.deepEqual(loose, strict);
  });

  test("keeps typed maps, and preserve-unknown-fields nodes become plain type object", () => {
    const map = { type: "object", additionalProperties: { type: "string" } };
    assert.deepEqual(makeStructural(map), map);
    const opaque = {
      type: "object",
      additionalProperties: {},
      "x-kubernetes-preserve-unknown-fields": true,
    };
    assert.deepEqual(makeStructural(opaque), {
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
    });
  });

  test("drops defaults and zod's safe-integer bounds but keeps real bounds", () => {
    const node = {
      type: "integer",
      default: 5,
      minimum: -9007199254740991,
      maximum: 9007199254740991,
    };
    assert.deepEqual(makeStructural(node), { type: "integer" });
    assert.deepEqual(makeStructural({ type: "integer", minimum: 0, maximum: 100 }), {
      type: "integer",
      minimum: 0,
      maximum: 100,
    });
  });

  test("fails loudly on a union, naming the field", () => {
    const schema = {
      type: "object",
      properties: { weight: { anyOf: [{ type: "string" }, { type: "integer" }] } },
    };
    assert.throws(
      () => makeStructural(schema),
      (error: unknown) => {
        assert.ok(error instanceof NonStructuralSchemaError);
        assert.match(error.message, /^weight: .*anyOf.*CEL/);
        return true;
      },
    );
  });

  test("fails loudly on a map of untyped values", () => {
    assert.throws(
      () => makeStructural({ type: "object", additionalProperties: {} }),
      /preserve-unknown-fields/,
    );
  });
});

describe("structuralProblems", () => {
  test("accepts a structural schema", () => {
    const schema = {
      type: "object",
      properties: {
        labels: { type: "object", additionalProperties: { type: "string" } },
        template: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        steps: { type: "array", items: { type: "object", properties: { w: { type: "integer" } } } },
      },
    };
    assert.deepEqual(structuralProblems(schema), []);
  });

  const rows: { name: string; schema: Record<string, unknown>; problem: string }[] = [
    {
      name: "additionalProperties beside properties",
      schema: {
        type: "object",
        properties: { a: { type: "string" } },
        additionalProperties: false,
      },
      problem: "<root>: additionalProperties beside properties",
    },
    {
      name: "type inside anyOf",
      schema: {
        type: "object",
        properties: { w: { type: "string", anyOf: [{ type: "integer" }] } },
      },
      problem: "w(anyOf0): type inside anyOf/oneOf/allOf/not",
    },
    {
      name: "a node without type",
      schema: {
        type: "object",
        properties: { steps: { type: "array", items: { properties: {} } } },
      },
      problem: "steps[]: no type",
    },
    {
      name: "preserve-unknown-fields on a string",
      schema: {
        type: "object",
        properties: { t: { type: "string", "x-kubernetes-preserve-unknown-fields": true } },
      },
      problem: "t: preserve-unknown-fields on a node that is not type object",
    },
    {
      name: "additionalProperties beside preserve-unknown-fields",
      schema: {
        type: "object",
        properties: {
          t: {
            type: "object",
            additionalProperties: {},
            "x-kubernetes-preserve-unknown-fields": true,
          },
        },
      },
      problem: "t: additionalProperties beside preserve-unknown-fields",
    },
  ];
  for (const row of rows) {
    test(`finds ${row.name}`, () => {
      assert.ok(
        structuralProblems(row.schema).includes(row.problem),
        structuralProblems(row.schema).join("; "),
      );
    });
  }
});
