import type { FieldPath, Manifest } from "./manifests.ts";
import type { LintContext } from "./context.ts";

/** What a lint rule is and what it says; the README's rule table and SARIF's rules come from it. */
export type Severity = "error" | "warning";

export interface RuleInfo {
  id: string;
  severity: Severity;
  /** References between objects, or a practice from the field guide. */
  category: "reference" | "practice";
  /** One line: what the rule checks. */
  title: string;
  /** Why it matters. */
  reason: string;
  /** What to do about it. */
  fix: string;
}

export interface Finding {
  rule: string;
  severity: Severity;
  file: string;
  line: number;
  message: string;
  fix: string;
}

/** Where a finding points, and what it says; the rule's fix is used unless the finding has its own. */
export interface Report {
  at: Manifest;
  path: FieldPath;
  message: string;
  fix?: string;
}

export interface Rule extends RuleInfo {
  check(context: LintContext, report: (finding: Report) => void): void;
}
