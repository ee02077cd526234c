import type { RolloutView } from "../cli/live/rollout-view.ts";

/**
 * What the dashboard server sends the page (as JSON over server-sent events and fetch
 * answers). Types only: the page's bundle imports them too.
 */

/** One row of the Rollouts list. */
export interface RolloutRow {
  namespace: string;
  name: string;
  phase: string;
  strategy: string;
  /** "3/4" for canaries; undefined without steps. */
  step: string | undefined;
  weight: number | undefined;
  stableImages: string[];
  canaryImages: string[];
  /** When the current release (or, when none runs, the stable version) started, RFC 3339. */
  releaseStartedAt: string | undefined;
  releasing: boolean;
  message: string | undefined;
}

export interface ListUpdate {
  rows: RolloutRow[];
  /** Where the list comes from: "all namespaces" or the one the user may list. */
  scope: string;
}

export interface PodView {
  name: string;
  hash: string;
  phase: string;
  ready: boolean;
}

export interface RolloutUpdate {
  view: RolloutView;
  pods: PodView[];
  /** Whether the user may patch rollouts/status here (a SelfSubjectAccessReview); the buttons follow it. */
  canSteer: boolean;
  /** The release shown in the charts: from its start to now, RFC 3339. */
  releaseStartedAt: string | undefined;
  deleted: boolean;
}

/** A time series: unix seconds and values, as uPlot takes them. */
export interface Series {
  label: string;
  points: [number, number][];
}

export interface ChartsUpdate {
  start: number;
  end: number;
  /** The canary weight: the controller's gauge from Prometheus, else what this server saw. */
  weight: Series[];
  successRate: Series[];
  latencyP99: Series[];
  /** Per metric: the evidence against the canary and its bound (the controller's gauges). */
  evidence: { metric: string; evidence: Series; bound: Series }[];
  /** Why charts are empty or partial (no analysis, Prometheus unreachable), for a person. */
  notes: string[];
}

export interface CommandAnswer {
  ok: boolean;
  message: string;
}
