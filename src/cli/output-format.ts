import { InvalidArgumentError, Option } from "commander";
import { stringify } from "yaml";

/** `-o json|yaml`, as kubectl prints objects: the object as the API server returned it, without managedFields. */
export type OutputFormat = "json" | "yaml";

export function outputOption(): Option {
  return new Option("-o, --output <format>", "print the object(s) as json or yaml").argParser(
    (value: string): OutputFormat => {
      if (value === "json" || value === "yaml") return value;
      throw new InvalidArgumentError("must be json or yaml");
    },
  );
}

export function printObject(object: unknown, format: OutputFormat): string {
  const clean = withoutManagedFields(object);
  return format === "json"
    ? `${JSON.stringify(clean, null, 2)}\n`
    : stringify(clean, { version: "1.1" }); // kubectl reads YAML 1.1 (a bare `on` is true)
}

/** A list as `kubectl get -o` prints one. */
export function printList(items: readonly unknown[], format: OutputFormat): string {
  return printObject(
    { apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } },
    format,
  );
}

function withoutManagedFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutManagedFields);
  if (typeof value !== "object" || value === null) return value;
  const object = value as Record<string, unknown>;
  const metadata = object.metadata;
  if (typeof metadata !== "object" || metadata === null) return { ...object, ...itemsOf(object) };
  const { managedFields: _managedFields, ...rest } = metadata as Record<string, unknown>;
  return { ...object, metadata: rest, ...itemsOf(object) };
}

function itemsOf(object: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(object.items) ? { items: object.items.map(withoutManagedFields) } : {};
}
