import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from "yaml";
import { asObject, asString, type Json } from "../traffic/json-patch.ts";

/**
 * The Kubernetes objects of the files lint reads, each able to say on which line a
 * field is written, so every finding points at the line that causes it.
 */
export type FieldPath = readonly (string | number)[];

export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  /** As written; unset means "the namespace it is applied to" (see sameNamespace). */
  namespace: string | undefined;
  object: Json;
  /** The line (from 1) of the deepest field of `path` that is written in the file. */
  line(path: FieldPath): number;
}

/** A file or document that could not be read as Kubernetes objects. */
export interface Unreadable {
  file: string;
  line: number;
  message: string;
}

export interface Loaded {
  files: string[];
  manifests: Manifest[];
  unreadable: Unreadable[];
}

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Reads files and directories (recursively: .yaml, .yml, .json; hidden folders and node_modules skipped). */
export async function loadManifests(paths: readonly string[]): Promise<Loaded> {
  const loaded: Loaded = { files: [], manifests: [], unreadable: [] };
  for (const path of paths) {
    let files: string[];
    try {
      files = await expand(path);
    } catch (error) {
      loaded.unreadable.push({ file: path, line: 1, message: `cannot be read: ${reason(error)}` });
      continue;
    }
    if (files.length === 0)
      loaded.unreadable.push({
        file: path,
        line: 1,
        message: "holds no .yaml, .yml or .json file",
      });
    for (const file of files) {
      loaded.files.push(file);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        loaded.unreadable.push({ file, line: 1, message: `cannot be read: ${reason(error)}` });
        continue;
      }
      const parsed = parseManifests(file, text);
      loaded.manifests.push(...parsed.manifests);
      loaded.unreadable.push(...parsed.unreadable);
    }
  }
  return loaded;
}

async function expand(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) files.push(...(await expand(child)));
    else if (MANIFEST_EXTENSIONS.has(extname(entry.name))) files.push(child);
  }
  return files;
}

/** Every Kubernetes object of a (multi-document) YAML or JSON text. */
export function parseManifests(
  file: string,
  text: string,
): { manifests: Manifest[]; unreadable: Unreadable[] } {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter });
  const manifests: Manifest[] = [];
  const unreadable: Unreadable[] = [];
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  for (const document of documents) {
    const errors = document.errors;
    const first = errors[0];
    if (first !== undefined) {
      const line = first.linePos?.[0].line ?? 1;
      unreadable.push({ file, line, message: `is not valid YAML: ${firstLine(first.message)}` });
      continue;
    }
    const value = document.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue;
    const start = lineAt(document.contents?.range[0] ?? 0);
    const object = asObject(value);
    const apiVersion = asString(object.apiVersion);
    const kind = asString(object.kind);
    if (apiVersion === undefined || kind === undefined || value !== object) {
      unreadable.push({
        file,
        line: start,
        message:
          "holds a document that is not a Kubernetes object (it needs apiVersion and kind): fix it or lint only the manifests",
      });
      continue;
    }
    const metadata = asObject(object.metadata);
    manifests.push({
      file,
      apiVersion,
      kind,
      name: asString(metadata.name) ?? "",
      namespace: asString(metadata.namespace),
      object,
      line: (path) => lineOf(document, path, lineAt) ?? start,
    });
  }
  return { manifests, unreadable };
}

/** Walks the YAML nodes along `path`; the line of the key (or item) of the deepest field found. */
function lineOf(
  document: Document.Parsed,
  path: FieldPath,
  lineAt: (offset: number) => number,
): number | undefined {
  let node: unknown = document.contents;
  let line: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === segment);
      if (pair === undefined) break;
      if (isScalar(pair.key) && pair.key.range) line = lineAt(pair.key.range[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      const range = (item as { range?: [number, number, number] | null }).range;
      if (range) line = lineAt(range[0]);
      node = item;
    } else break;
  }
  return line;
}

/** Objects without a namespace take the one they are applied to, so they match any. */
export function sameNamespace(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** "a.b[0].c" or 'x.matchLabels["app"]' → ["a", "b", 0, "c"]; for problems from the Rollout parser. */
export function parseFieldPath(text: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
    if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(JSON.parse(`"${match[3]}"`) as string);
    else if (match[1] !== undefined) segments.push(match[1]);
  }
  return segments;
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? text).replace(/ at line \d+, column \d+:?$/, "");
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
