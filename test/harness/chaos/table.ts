import { KINDS, ROUTINGS } from "./fleet.ts";
import type { ChaosReport } from "./run.ts";

/** The chaos run as two plain-text tables: faults injected, and outcomes per class. */
export function chaosTables(report: ChaosReport): string {
  const rows = (header: string[], body: string[][]) => {
    const widths = header.map((h, i) =>
      Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)),
    );
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
    return [
      line(header),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
      ...body.map(line),
    ].join("\n");
  };
  const faults = rows(
    ["fault", "count", "at (s after the releases started)"],
    [
      ...report.faults.map((f) => [
        f.what,
        String(f.what.startsWith("Prometheus") ? f.at.length / 2 : f.at.length),
        f.at.map((t) => t.toFixed(1)).join(", "),
      ]),
      ["leadership changes (Lease holder)", String(report.leaderChanges), ""],
      [
        "probe watch from before a compaction: 410 Gone",
        `${report.goneProbes.filter(Boolean).length}/${report.goneProbes.length}`,
        "",
      ],
      [
        "watch failures logged by the replicas (410 Gone)",
        `${report.watchErrors} (${report.watchGone})`,
        "",
      ],
    ],
  );
  const classes: string[][] = [];
  for (const kind of KINDS)
    for (const routing of ROUTINGS) {
      const results = report.results.filter(
        (r) => r.release.kind === kind && r.release.routing === routing,
      );
      if (results.length === 0) continue;
      const got = new Map<string, number>();
      for (const r of results) got.set(r.got, (got.get(r.got) ?? 0) + 1);
      const namespaces = new Set(results.map((r) => r.release.namespace));
      classes.push([
        kind,
        routing,
        `${results.length} ${results[0]?.expected ?? ""}`,
        [...got].map(([outcome, n]) => `${n} ${outcome}`).join(", "),
        String(report.violations.filter((v) => namespaces.has(v.namespace)).length),
        String(results.filter((r) => r.halfRouted !== undefined).length),
        String(results.reduce((n, r) => n + r.notifications.accepted, 0)),
        String(results.reduce((n, r) => n + r.notifications.duplicates, 0)),
        String(results.reduce((n, r) => n + r.notifications.lost.length, 0)),
      ]);
    }
  const outcomes = rows(
    [
      "class",
      "routing",
      "expected",
      "got",
      "no-pod weight",
      "half-routed",
      "notified",
      "duplicate",
      "lost",
    ],
    classes,
  );
  return [
    faults,
    "",
    outcomes,
    "",
    `samples: ${report.samples} (+${report.failedSamples} while the API server was down); all outcomes reached after ${report.settledAfter}s`,
  ].join("\n");
}

/** Lines saying what went wrong, for assertion messages and the bench's log. */
export function chaosProblems(report: ChaosReport): string[] {
  return [
    ...report.results
      .filter((r) => r.got !== r.expected)
      .map(
        (r) =>
          `${r.release.namespace} (${r.release.kind}, ${r.release.routing}): expected ${r.expected}, got ${r.got} (${r.detail})\n    ${r.history.slice(-25).join("\n    ")}`,
      ),
    ...report.results
      .filter((r) => r.halfRouted !== undefined)
      .map((r) => `${r.release.namespace}: half-routed at the end: ${r.halfRouted ?? ""}`),
    ...report.violations.map(
      (v) =>
        `${v.namespace}: ${v.weight}% to ${v.backend} (${v.hash ?? "no hash"}) with no available pod at ${new Date(v.at).toISOString()}`,
    ),
  ];
}
