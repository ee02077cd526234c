import { render } from "preact";
import { useState } from "preact/hooks";
import type { ChartsUpdate, ListUpdate, RolloutRow, RolloutUpdate } from "../wire.ts";
import { Chart } from "./chart.tsx";
import { age, LiveBadge, useNow, useStream } from "./live.tsx";
import { Steering } from "./steering.tsx";

/**
 * The dashboard's page: the Rollouts list at /, one Rollout at /rollouts/<ns>/<name>.
 * Both follow a server-sent event stream; the page never polls.
 */

function Phase({ phase }: { phase: string }) {
  return <span class={`phase phase-${phase.toLowerCase()}`}>{phase}</span>;
}

function versions(row: RolloutRow): string {
  const stable = row.stableImages.join(", ") || "–";
  return row.canaryImages.length === 0 ? stable : `${stable} → ${row.canaryImages.join(", ")}`;
}

function ListPage() {
  const [update, setUpdate] = useState<ListUpdate | undefined>();
  const live = useStream("/api/rollouts/stream", { list: (d) => setUpdate(d as ListUpdate) });
  const now = useNow();
  return (
    <main>
      <header class="bar">
        <h1>Rollouts</h1>
        <span class="muted">{update?.scope ?? ""}</span>
        <LiveBadge live={live} />
      </header>
      {update === undefined ? (
        <p>Loading…</p>
      ) : update.rows.length === 0 ? (
        <p>No Rollouts in {update.scope}.</p>
      ) : (
        <div class="scroll">
          <table id="rollouts">
            <thead>
              <tr>
                <th scope="col">Rollout</th>
                <th scope="col">Phase</th>
                <th scope="col">Step</th>
                <th scope="col">Weight</th>
                <th scope="col">Versions</th>
                <th scope="col">Release age</th>
              </tr>
            </thead>
            <tbody>
              {update.rows.map((row) => (
                <tr
                  key={`${row.namespace}/${row.name}`}
                  data-rollout={`${row.namespace}/${row.name}`}
                >
                  <td>
                    <a href={`/rollouts/${row.namespace}/${row.name}`}>
                      <span class="muted">{row.namespace}/</span>
                      {row.name}
                    </a>
                  </td>
                  <td>
                    <Phase phase={row.phase} />
                  </td>
                  <td>{row.step ?? "–"}</td>
                  <td class="weight">
                    {row.weight === undefined ? "–" : `${String(row.weight)}%`}
                  </td>
                  <td class="versions">{versions(row)}</td>
                  <td>{age(row.releaseStartedAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

function RolloutPage({ namespace, name }: { namespace: string; name: string }) {
  const [update, setUpdate] = useState<RolloutUpdate | undefined>();
  const [charts, setCharts] = useState<ChartsUpdate | undefined>();
  const live = useStream(`/api/rollouts/${namespace}/${name}/stream`, {
    rollout: (d) => setUpdate(d as RolloutUpdate),
    charts: (d) => setCharts(d as ChartsUpdate),
  });
  const now = useNow();
  const view = update?.view;
  return (
    <main>
      <nav>
        <a href="/">← Rollouts</a>
      </nav>
      <header class="bar">
        <h1>
          <span class="muted">{namespace}/</span>
          {name}
        </h1>
        {view !== undefined && <Phase phase={update?.deleted === true ? "Deleted" : view.phase} />}
        <LiveBadge live={live} />
      </header>
      {view === undefined || update === undefined ? (
        <p>Loading…</p>
      ) : (
        <>
          <p id="summary">
            {view.weight !== undefined && (
              <span>
                canary <strong id="weight">{view.weight.canary}%</strong> · stable{" "}
                {view.weight.stable}% ·{" "}
              </span>
            )}
            release age {age(update.releaseStartedAt, now)}
            {view.message !== undefined && <span> · {view.message}</span>}
          </p>
          {view.waitingFor !== undefined && (
            <p class="waiting" id="waiting">
              Waiting: {view.waitingFor.why} (<code>{view.waitingFor.command}</code>)
            </p>
          )}
          {view.pendingCommand !== undefined && (
            <p class="muted">Sent, not yet executed: {view.pendingCommand}</p>
          )}
          <Steering namespace={namespace} name={name} canSteer={update.canSteer} />
          <div class="columns">
            <section aria-labelledby="steps-title">
              <h2 id="steps-title">Steps</h2>
              {view.steps.length === 0 ? (
                <p class="muted">No steps ({view.strategy}).</p>
              ) : (
                <ol class="steps" id="steps">
                  {view.steps.map((step) => (
                    <li key={step.number} class={`step ${step.state}`} data-state={step.state}>
                      <span class="marker" aria-hidden="true">
                        {step.state === "done" ? "✓" : step.state === "current" ? "▶" : "○"}
                      </span>
                      <span>
                        {step.text}{" "}
                        <span class="muted">
                          {step.state === "done"
                            ? "done"
                            : step.state === "current"
                              ? "current"
                              : "waiting"}
                          {step.state === "current" && view.waitingFor !== undefined
                            ? `: ${view.waitingFor.why}`
                            : ""}
                          {step.state === "current" &&
                          view.waitingFor === undefined &&
                          view.message !== undefined
                            ? `: ${view.message}`
                            : ""}
                        </span>
                      </span>
                    </li>
                  ))}
                </ol>
              )}
            </section>
            <section aria-labelledby="analysis-title">
              <h2 id="analysis-title">Analysis</h2>
              {view.analysis === undefined ? (
                <p class="muted">No analysis.</p>
              ) : (
                <>
                  <p>
                    {view.analysis.verdict}, {view.analysis.samples} samples
                    {view.analysis.message !== undefined ? ` · ${view.analysis.message}` : ""}
                  </p>
                  <table class="wide">
                    <thead>
                      <tr>
                        <th scope="col">Metric</th>
                        <th scope="col">Verdict</th>
                        <th scope="col">Canary</th>
                        <th scope="col">Stable</th>
                        <th scope="col">Evidence / bound</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.analysis.metrics.map((m) => (
                        <tr key={m.name}>
                          <td>{m.name}</td>
                          <td>{m.verdict}</td>
                          <td>{fixed(m.canary)}</td>
                          <td>{fixed(m.stable)}</td>
                          <td>
                            {fixed(m.evidence)} / {fixed(m.bound)}
                            {m.evidenceShare !== undefined && (
                              <meter
                                min={0}
                                max={1}
                                value={m.evidenceShare}
                                aria-label={`${m.name} evidence toward the bound`}
                              />
                            )}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              )}
            </section>
          </div>
          <section aria-labelledby="charts-title">
            <h2 id="charts-title">Over the release</h2>
            {charts === undefined ? (
              <p>Querying Prometheus…</p>
            ) : (
              <>
                {charts.notes.map((note) => (
                  <p class="muted" key={note}>
                    {note}
                  </p>
                ))}
                <div class="charts">
                  <Chart
                    id="chart-weight"
                    title="Canary weight"
                    unit="%"
                    series={charts.weight}
                    start={charts.start}
                    end={charts.end}
                  />
                  <Chart
                    id="chart-success"
                    title="Success rate"
                    unit="%"
                    max={100}
                    series={charts.successRate}
                    start={charts.start}
                    end={charts.end}
                  />
                  <Chart
                    id="chart-p99"
                    title="P99 latency"
                    unit="ms"
                    series={charts.latencyP99}
                    start={charts.start}
                    end={charts.end}
                  />
                  {charts.evidence.map((e) => (
                    <Chart
                      key={e.metric}
                      id={`chart-evidence-${e.metric}`}
                      title={`Evidence against the canary: ${e.metric}`}
                      unit="ratio"
                      log
                      series={[e.evidence, e.bound]}
                      start={charts.start}
                      end={charts.end}
                    />
                  ))}
                </div>
              </>
            )}
          </section>
          <div class="columns">
            <section aria-labelledby="rs-title">
              <h2 id="rs-title">ReplicaSets and pods</h2>
              <table id="replicasets">
                <thead>
                  <tr>
                    <th scope="col">Role</th>
                    <th scope="col">Hash</th>
                    <th scope="col">Images</th>
                    <th scope="col">Ready</th>
                  </tr>
                </thead>
                <tbody>
                  {view.replicaSets.map((rs) => (
                    <tr key={rs.hash}>
                      <td>{rs.role}</td>
                      <td>
                        <code>{rs.hash}</code>
                      </td>
                      <td>{rs.images.join(", ")}</td>
                      <td>
                        {rs.ready}/{rs.desired}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ul class="pods">
                {update.pods.map((pod) => (
                  <li key={pod.name}>
                    <span class={pod.ready ? "ok" : "muted"}>{pod.ready ? "●" : "○"}</span>{" "}
                    {pod.name} <span class="muted">{pod.phase}</span>
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="conditions-title">
              <h2 id="conditions-title">Conditions</h2>
              <ul>
                {view.conditions.map((c) => (
                  <li key={c.type}>
                    <strong>{c.type}</strong> {c.status} <span class="muted">{c.reason}</span>{" "}
                    {c.message}
                  </li>
                ))}
              </ul>
              <h2>Events</h2>
              <ul id="events">
                {view.events.map((e, i) => (
                  <li key={`${String(i)}-${e.reason}`} class={e.type === "Warning" ? "error" : ""}>
                    <span class="muted">
                      {e.time === undefined ? "" : new Date(e.time).toLocaleTimeString()}
                    </span>{" "}
                    <strong>{e.reason}</strong> {e.message}
                  </li>
                ))}
              </ul>
            </section>
          </div>
        </>
      )}
    </main>
  );
}

function fixed(value: number | undefined): string {
  if (value === undefined) return "–";
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function App() {
  const match = /^\/rollouts\/([^/]+)\/([^/]+)$/.exec(location.pathname);
  return match === null ? (
    <ListPage />
  ) : (
    <RolloutPage namespace={match[1] ?? ""} name={match[2] ?? ""} />
  );
}

const root = document.getElementById("app");
if (root !== null) {
  root.textContent = "";
  render(<App />, root);
}
