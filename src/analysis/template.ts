import { DURATION_PATTERN } from "../api/duration.ts";

/**
 * Fills a MetricTemplate's PromQL with the Rollout's values, so that no value can ever
 * change the structure of the query.
 *
 * Each `{{name}}` is rendered according to where it stands in the query text:
 * - inside a "double" or 'single' quoted string: the value is escaped for that string
 *   (backslash, the quote, control characters), so it can only ever be string content.
 *   In a regex matcher (`=~`, `!~`) the value is regex text: it cannot break out of the
 *   string, but regex characters keep their meaning there.
 * - inside a `raw` string: raw strings have no escapes, so a value containing a backtick
 *   (or U+FFFD, or a lone surrogate, which Prometheus refuses) is an error.
 * - anywhere else (including comments): the value is inserted as is, so it must match a
 *   strict pattern: `{{window}}` a duration such as 1m (e.g. `rate(x[{{window}}])`), any
 *   other variable a PromQL identifier or a plain number. Anything else is an error that
 *   tells the author to put the variable inside quotes.
 */

export interface TemplateContext {
  namespace: string;
  rollout: string;
  canaryService: string;
  stableService: string;
  canaryHash: string;
  stableHash: string;
  /** A duration such as "1m", used as a range: `[{{window}}]`. */
  window: string;
  /** MetricTemplate spec.variables, referenced as {{variables.NAME}}. */
  variables?: Readonly<Record<string, string>> | undefined;
}

export const BUILTIN_VARIABLES = [
  "namespace",
  "rollout",
  "canaryService",
  "stableService",
  "canaryHash",
  "stableHash",
  "window",
] as const satisfies readonly (keyof TemplateContext)[];

export type RenderResult = { ok: true; query: string } | { ok: false; error: string };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/y;
const DURATION = new RegExp(DURATION_PATTERN);
const UNQUOTED_SAFE = /^(?:[A-Za-z_:][A-Za-z0-9_:]*|[0-9]+(?:\.[0-9]+)?)$/;
const CONTROL_CHAR = /[\u0000-\u001f\u007f]/g; // eslint-disable-line no-control-regex -- we escape exactly these
const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes a value for the inside of a PromQL quoted string (Go string-literal escapes).
 * The result contains no unescaped quote, no bare backslash and no raw control character.
 */
export function escapePromQLString(value: string, quote: '"' | "'" = '"'): string {
  return (
    value
      .toWellFormed()
      .replaceAll("\\", "\\\\")
      .replaceAll(quote, `\\${quote}`)
      .replace(
        CONTROL_CHAR,
        (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      )
      // Prometheus's lexer refuses a literal U+FFFD (its "invalid UTF-8" marker) in strings.
      .replaceAll("\ufffd", "\\ufffd")
  );
}

/** A complete double-quoted PromQL string literal holding `value`. */
export function quotePromQLString(value: string): string {
  return `"${escapePromQLString(value)}"`;
}

type Context = "code" | '"' | "'" | "`" | "comment";

/** Renders a template; unknown variables and unsafe unquoted values are errors, never thrown. */
export function renderQuery(template: string, context: TemplateContext): RenderResult {
  let out = "";
  let where: Context = "code";
  let i = 0;
  while (i < template.length) {
    PLACEHOLDER.lastIndex = i;
    const placeholder = PLACEHOLDER.exec(template);
    if (placeholder) {
      const name = placeholder[1] ?? "";
      const value = lookup(name, context);
      if (typeof value !== "string") return value;
      const rendered = renderValue(name, value, where);
      if (!rendered.ok) return rendered;
      out += rendered.query;
      i += placeholder[0].length;
      continue;
    }
    const c = template.charAt(i);
    out += c;
    i += 1;
    if (where === "code") {
      if (c === '"' || c === "'" || c === "`") where = c;
      else if (c === "#") where = "comment";
    } else if (where === "comment") {
      if (c === "\n") where = "code";
    } else if (c === where) {
      where = "code";
    } else if (c === "\\" && where !== "`" && i < template.length) {
      // An escape in the template's own text: copy the escaped character untouched.
      out += template.charAt(i);
      i += 1;
    }
  }
  return { ok: true, query: out };
}

/** The variable names a template uses that the context cannot provide (for InvalidSpec checks). */
export function unknownVariables(template: string, variables: readonly string[] = []): string[] {
  const unknown: string[] = [];
  for (const match of template.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
    const name = match[1] ?? "";
    const known =
      (BUILTIN_VARIABLES as readonly string[]).includes(name) ||
      (name.startsWith("variables.") && variables.includes(name.slice("variables.".length)));
    if (!known && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
}

/** "{{namespace}}, ..., {{variables.NAME}}": what a template with these custom variables may use. */
export function allowedVariables(customVariables: readonly string[]): string {
  const custom = customVariables.map((v) => `variables.${v}`);
  return [...BUILTIN_VARIABLES, ...custom].map((v) => `{{${v}}}`).join(", ");
}

function lookup(name: string, context: TemplateContext): string | { ok: false; error: string } {
  if ((BUILTIN_VARIABLES as readonly string[]).includes(name)) {
    return context[name as (typeof BUILTIN_VARIABLES)[number]];
  }
  if (name.startsWith("variables.")) {
    const key = name.slice("variables.".length);
    const variables = context.variables ?? {};
    if (Object.hasOwn(variables, key)) return variables[key] ?? "";
  }
  return {
    ok: false,
    error: `unknown variable {{${name}}} in the query; allowed variables are ${allowedVariables(Object.keys(context.variables ?? {}))} (define custom ones in the MetricTemplate's spec.variables)`,
  };
}

function renderValue(name: string, value: string, where: Context): RenderResult {
  switch (where) {
    case '"':
    case "'":
      return { ok: true, query: escapePromQLString(value, where) };
    case "`":
      return value.includes("`") || value.toWellFormed().includes("\ufffd")
        ? {
            ok: false,
            error: `{{${name}}} is inside a \`raw\` string, which cannot hold its value (a backtick or an invalid character); use a "quoted" string instead`,
          }
        : { ok: true, query: value };
    case "code":
    case "comment": {
      const safe = name === "window" ? DURATION.test(value) : UNQUOTED_SAFE.test(value);
      if (safe) return { ok: true, query: value };
      const expected = name === "window" ? 'a duration such as "1m"' : "an identifier or a number";
      return {
        ok: false,
        error: `{{${name}}} is used outside a quoted string, where its value must be ${expected}, but it is ${JSON.stringify(value.slice(0, 80))}; put the variable inside quotes (e.g. label="{{${name}}}")`,
      };
    }
  }
}
