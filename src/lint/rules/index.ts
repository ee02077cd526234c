import type { Rule } from "../rule.ts";
import { circuitBreakerMissing } from "./circuit-breaker.ts";
import {
  destinationRuleHostMismatch,
  destinationRuleMissing,
  destinationRuleSubsetMissing,
} from "./destinationrule-refs.ts";
import {
  httpRouteBackendsMissing,
  httpRouteMissing,
  httpRouteWeightMissing,
} from "./httproute-refs.ts";
import { linkerdInjectMissing } from "./linkerd-inject.ts";
import { mtlsStrictWithoutSidecar } from "./mtls.ts";
import { selectorUnmatched } from "./pod-selectors.ts";
import { retryAmplification } from "./retry-amplification.ts";
import { retryNonIdempotent, retryPerTryTimeoutMissing } from "./retries.ts";
import { rolloutInvalid } from "./rollout-invalid.ts";
import { serviceMissing } from "./service-refs.ts";
import { routeTimeoutMissing, routeTimeoutTooLong } from "./timeouts.ts";
import {
  virtualServiceDestinationMissing,
  virtualServiceDestinationUnknown,
  virtualServiceHostUnknown,
  virtualServiceMissing,
  virtualServiceRouteMissing,
} from "./virtualservice-refs.ts";

/** Every rule, references first, in the order the README lists them. */
export const RULES: readonly Rule[] = [
  rolloutInvalid,
  virtualServiceMissing,
  virtualServiceRouteMissing,
  virtualServiceDestinationMissing,
  virtualServiceDestinationUnknown,
  virtualServiceHostUnknown,
  destinationRuleMissing,
  destinationRuleSubsetMissing,
  destinationRuleHostMismatch,
  httpRouteMissing,
  httpRouteBackendsMissing,
  httpRouteWeightMissing,
  serviceMissing,
  selectorUnmatched,
  routeTimeoutMissing,
  routeTimeoutTooLong,
  retryNonIdempotent,
  retryPerTryTimeoutMissing,
  retryAmplification,
  circuitBreakerMissing,
  mtlsStrictWithoutSidecar,
  linkerdInjectMissing,
];
