import { relative, sep } from "node:path";
import type { Log, ReportingDescriptor, Result } from "sarif";
import type { LintResult } from "./lint.ts";
import type { Finding, RuleInfo } from "./rule.ts";

/** The three outputs of `aviary lint`: text for people, JSON for scripts, SARIF for code scanning. */

export function formatText(result: LintResult): string {
  const lines = result.findings.map(
    (f) => `${f.file}:${f.line}: ${f.severity} [${f.rule}] ${f.message}\n    fix: ${f.fix}`,
  );
  const errors = result.findings.filter((f) => f.severity === "error").length;
  const warnings = result.findings.length - errors;
  const files = `${result.files.length} file${result.files.length === 1 ? "" : "s"}`;
  lines.push(
    result.findings.length === 0
      ? `${files} checked: no problems`
      : `${files} checked: ${plural(errors, "error")}, ${plural(warnings, "warning")}`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatJson(result: LintResult): string {
  return `${JSON.stringify({ files: result.files, findings: result.findings }, null, 2)}\n`;
}

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** SARIF 2.1.0: one run, every rule described once, each result on the file and line that causes it. */
export function toSarif(
  result: LintResult,
  rules: readonly RuleInfo[],
  version: string,
  root = process.cwd(),
): Log {
  const descriptors: ReportingDescriptor[] = rules.map((rule) => ({
    id: rule.id,
    name: camel(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.reason },
    help: { text: `${rule.reason} Fix: ${rule.fix}` },
    defaultConfiguration: { level: rule.severity },
    properties: { category: rule.category },
  }));
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  const results: Result[] = result.findings.map((f: Finding) => ({
    ruleId: f.rule,
    ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
    level: f.severity,
    message: { text: `${f.message}. Fix: ${f.fix}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uriOf(f.file, root), uriBaseId: "%SRCROOT%" },
          region: { startLine: f.line },
        },
      },
    ],
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "aviary-lint",
            version,
            rules: descriptors,
          },
        },
        results,
      },
    ],
  };
}

function uriOf(file: string, root: string): string {
  const path = relative(root, file) || file;
  return path.split(sep).map(encodeURIComponent).join("/");
}

function camel(id: string): string {
  return id
    .replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
    .replace(/^\w/, (c) => c.toUpperCase());
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
