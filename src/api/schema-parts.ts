import { z } from "zod";

/**
 * Building blocks shared by the API schemas.
 * "Exactly one of" is written as optional siblings plus a CEL rule, because unions
 * become anyOf/oneOf with types inside, which the API server rejects as non-structural.
 */
export const exactlyOne = (fields: string[], message: string) => ({
  rule: `[${fields.map((f) => `has(self.${f})`).join(", ")}].filter(x, x).size() == 1`,
  message,
});

export const atMostOne = (fields: string[], message: string) => ({
  rule: `[${fields.map((f) => `has(self.${f})`).join(", ")}].filter(x, x).size() <= 1`,
  message,
});

export const Name = z.string().min(1).max(253);

/** A Service's name: a DNS-1035 label, as the API server requires of Services. */
export const ServiceName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    "a Service name: at most 63 lower-case letters, digits and '-', starting with a letter",
  );

/** Longest Rollout name: it is the value of the aviary.dev/rollout label on ReplicaSets and pods. */
export const MAX_ROLLOUT_NAME = 63;
export const Percent = z.int().min(0).max(100);

/** Arbitrary Kubernetes objects we pass through untouched (pod templates, selectors). */
export const Opaque = z
  .record(z.string(), z.unknown())
  .meta({ "x-kubernetes-preserve-unknown-fields": true });

export const LabelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(Opaque).optional(),
});

export const ObjectRef = z.object({ name: Name });

export const SecretKeyRef = z.object({ name: Name, key: z.string().min(1) });
