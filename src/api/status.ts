import { z } from "zod";
import { MAX_COMMAND_ID } from "./limits.ts";
import { NotificationOutbox } from "./notification-status.ts";

export const Phase = z.enum(["Progressing", "Paused", "Healthy", "Degraded", "Aborted"]);

export const CommandName = z.enum(["promote", "promoteFull", "abort", "retry", "pause", "resume"]);

/** Bounded: it is copied into lastCommandId, and an unbounded one could make every status write too large. */
export const CommandId = z.string().min(1).max(MAX_COMMAND_ID);

export const Command = z.object({
  name: CommandName,
  id: CommandId,
  requestedAt: z.string().max(64).optional(),
  requestedBy: z.string().max(253).optional(),
});

/** What the controller made of a command: executed, or ignored and why. */
export const CommandResult = z.object({
  id: CommandId,
  name: CommandName,
  outcome: z.enum(["Executed", "Ignored"]),
  message: z.string(),
});

/**
 * The Services and routing objects Aviary manages for this Rollout, recorded from the last
 * valid spec. With them Aviary can always put traffic back (abort, deletion), even after an
 * edit made the spec invalid or renamed what it points at.
 */
export const ManagedTraffic = z.object({
  strategy: z.enum(["canary", "blueGreen"]),
  stableService: z.string().optional(),
  canaryService: z.string().optional(),
  virtualService: z.object({ name: z.string(), routes: z.array(z.string()).optional() }).optional(),
  destinationRule: z
    .object({ name: z.string(), stableSubset: z.string(), canarySubset: z.string() })
    .optional(),
  httpRoute: z.object({ name: z.string() }).optional(),
});

export const Condition = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.int().optional(),
});

export const Verdict = z.enum(["Running", "Passed", "Failed", "Inconclusive"]);

export const MetricStatus = z.object({
  name: z.string(),
  verdict: Verdict,
  canary: z.number().optional(),
  stable: z.number().optional(),
  /** Sequential judge: the evidence against the canary so far (mixture likelihood ratio). */
  evidence: z.number().optional(),
  /** The evidence at which this metric alone rolls back (its share of 1/alpha). */
  bound: z.number().optional(),
  /**
   * Sequential judge: the weight (0..1] the last interval's evidence got because the
   * metric's bad requests come in bursts (extra-binomial variation); absent or 1: none.
   */
  discount: z.number().gt(0).max(1).optional(),
  message: z.string().optional(),
});

/** The judge's memory, kept in status so a restarted controller continues the same test. */
export const JudgeState = z
  .record(z.string(), z.unknown())
  .meta({ "x-kubernetes-preserve-unknown-fields": true });

export const AnalysisStatus = z.object({
  verdict: Verdict,
  startedAt: z.string(),
  lastSampleAt: z.string().optional(),
  /** Time with sufficient data, counted toward analysis steps (seconds). */
  conclusiveSeconds: z.number().default(0),
  samples: z.int().default(0),
  message: z.string().optional(),
  metrics: z.array(MetricStatus).default([]),
  judge: JudgeState.optional(),
});

export const RolloutStatus = z.object({
  phase: Phase.optional(),
  message: z.string().optional(),
  observedGeneration: z.int().optional(),
  currentStepIndex: z.int().optional(),
  /** When the current step started (RFC 3339). */
  stepStartedAt: z.string().optional(),
  canaryWeight: z.int().optional(),
  stableHash: z.string().optional(),
  canaryHash: z.string().optional(),
  /** Header routes Aviary has added and must remove. */
  headerRoutes: z.array(z.string()).optional(),
  /** Canary replica override set by setCanaryScale. */
  canaryScale: z.object({ replicas: z.int().optional(), weight: z.int().optional() }).optional(),
  /** Set by `pause`, cleared by `resume`. */
  manualPause: z.boolean().optional(),
  /** Set by `promoteFull`: skip remaining steps and analysis. */
  promoteFull: z.boolean().optional(),
  /** Blue/green: set by `promote`, promotes the preview without waiting for auto-promotion. */
  promoteRequested: z.boolean().optional(),
  abortedAt: z.string().optional(),
  abortReason: z.string().optional(),
  /** Blue/green: when the preview became available, and when it was promoted. */
  previewReadyAt: z.string().optional(),
  promotedAt: z.string().optional(),
  /** Old ReplicaSets waiting to be scaled down, with the time they may go. */
  scaleDownAt: z.array(z.object({ hash: z.string(), at: z.string() })).optional(),
  lastProgressAt: z.string().optional(),
  /** Conclusive analysis seconds already counted when the current analysis step began. */
  stepAnalysisBaseSeconds: z.number().optional(),
  analysis: AnalysisStatus.optional(),
  conditions: z.array(Condition).optional(),
  /** Written by the CLI or Argo CD actions; executed once per id. */
  command: Command.optional(),
  lastCommandId: CommandId.optional(),
  commandResult: CommandResult.optional(),
  managed: ManagedTraffic.optional(),
  /** The notification outbox: pending, sent and failed notifications (see notification-status.ts). */
  notifications: NotificationOutbox.optional(),
});

export type Phase = z.output<typeof Phase>;
export type CommandName = z.output<typeof CommandName>;
export type Command = z.output<typeof Command>;
export type CommandResult = z.output<typeof CommandResult>;
export type ManagedTraffic = z.output<typeof ManagedTraffic>;
export type Condition = z.output<typeof Condition>;
export type Verdict = z.output<typeof Verdict>;
export type MetricStatus = z.output<typeof MetricStatus>;
export type AnalysisStatus = z.output<typeof AnalysisStatus>;
export type RolloutStatus = z.output<typeof RolloutStatus>;
