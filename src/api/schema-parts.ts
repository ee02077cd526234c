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
