import { buildContext, DEFAULT_LINT_OPTIONS, type LintOptions } from "./context.ts";
import type { Loaded } from "./manifests.ts";
import type { Finding, RuleInfo } from "./rule.ts";
import { RULES } from "./rules/index.ts";

/** Runs every rule over the objects of all the files given, together, offline. */

export const UNREADABLE: RuleInfo = {
  id: "manifest-unreadable",
  severity: "error",
  category: "reference",
  title:
    "a file cannot be read, is not valid YAML, or holds a document that is not a Kubernetes object",
  reason: "Nothing in it can be checked, and kubectl would reject it too.",
  fix: "Fix the file at the line named, or leave it out of the paths given.",
};

export const ALL_RULES: readonly RuleInfo[] = [UNREADABLE, ...RULES];

export interface LintResult {
  files: string[];
  findings: Finding[];
}

export function lint(loaded: Loaded, options: LintOptions = DEFAULT_LINT_OPTIONS): LintResult {
  const findings: Finding[] = loaded.unreadable.map((u) => ({
    rule: UNREADABLE.id,
    severity: UNREADABLE.severity,
    file: u.file,
    line: u.line,
    message: `${u.file} ${u.message}`,
    fix: UNREADABLE.fix,
  }));
  const context = buildContext(loaded.manifests, options);
  for (const rule of RULES)
    rule.check(context, (report) =>
      findings.push({
        rule: rule.id,
        severity: rule.severity,
        file: report.at.file,
        line: report.at.line(report.path),
        message: report.message,
        fix: report.fix ?? rule.fix,
      }),
    );
  findings.sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule),
  );
  return { files: loaded.files, findings: dedupe(findings) };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.file}:${f.line}:${f.rule}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** --strict: every warning counts as an error. */
export function strict(findings: readonly Finding[]): Finding[] {
  return findings.map((f) => ({ ...f, severity: "error" }));
}

export const EXIT_CLEAN = 0;
export const EXIT_ERRORS = 1;
export const EXIT_WARNINGS = 2;

export function exitCode(findings: readonly Finding[]): number {
  if (findings.some((f) => f.severity === "error")) return EXIT_ERRORS;
  return findings.length > 0 ? EXIT_WARNINGS : EXIT_CLEAN;
}
