import { RE2JS } from "re2js";
import { durationMs } from "./duration.ts";

/** Reports a problem at a field path; the validators share it. */
export type Add = (path: string, message: string) => void;

/** Reports unless exactly one of `fields` is set. */
export function exactlyOne(
  add: Add,
  path: string,
  fields: Record<string, unknown>,
  what: string,
): void {
  const names = Object.keys(fields);
  const set = names.filter((name) => fields[name] !== undefined);
  if (set.length === 1) return;
  const choice = `${names.slice(0, -1).join(", ")} or ${names.at(-1) ?? ""}`;
  add(
    path,
    set.length === 0
      ? `sets none of ${choice}: set exactly one (${what})`
      : `sets ${set.join(" and ")}: set exactly one of ${choice} (${what}), and remove the others`,
  );
}

export function parsesToZero(text: string): boolean {
  try {
    return durationMs(text) === 0;
  } catch {
    return false; // the schema reports a malformed duration
  }
}

export function checkNonZeroDuration(
  add: Add,
  text: string | undefined,
  path: string,
  why: string,
): void {
  if (text !== undefined && parsesToZero(text))
    add(path, `is ${text}, and ${why}: set a positive duration such as "30s"`);
}

/** Envoy evaluates header regexes with RE2: what RE2 refuses, the mesh would refuse too. */
export function checkRegex(add: Add, regex: string, path: string): void {
  try {
    RE2JS.compile(regex);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    add(
      path,
      `${JSON.stringify(regex)} is not a regular expression Envoy accepts (RE2 syntax: ${reason}); fix it, or match with exact or prefix`,
    );
  }
}
