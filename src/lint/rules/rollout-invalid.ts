import type { Rule } from "../rule.ts";
import { parseFieldPath } from "../manifests.ts";

/** The Rollout itself: the same schema and semantic rules the API server and the controller apply. */
export const rolloutInvalid: Rule = {
  id: "rollout-invalid",
  severity: "error",
  category: "reference",
  title: "the Rollout breaks the schema or Aviary's rules",
  reason:
    "The API server rejects it, or the controller reports it as InvalidSpec and does not release it.",
  fix: "Correct the field named in the message.",
  check(context, report) {
    for (const { manifest, problems } of context.invalidRollouts)
      for (const problem of problems)
        report({
          at: manifest,
          path: parseFieldPath(problem.path),
          message: `Rollout ${manifest.name}: ${problem.path === "" ? "" : `${problem.path} `}${problem.message}`,
        });
  },
};
