import { z } from "zod";
import { exactlyOne, Name } from "./schema-parts.ts";

export const IstioVirtualServiceRef = z.object({
  name: Name,
  /** Names of the HTTP routes whose weights Aviary manages; may be omitted when the VirtualService has one route. */
  routes: z.array(z.string().min(1).max(253)).max(20).optional(),
});

export const IstioDestinationRuleRef = z
  .object({
    name: Name,
    stableSubset: z.string().min(1).max(253),
    canarySubset: z.string().min(1).max(253),
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.stableSubset != self.canarySubset",
        message: "stableSubset and canarySubset must name different subsets",
        fieldPath: ".canarySubset",
      },
    ],
  });

export const IstioRouting = z.object({
  virtualService: IstioVirtualServiceRef,
  /** Subset-level routing: Aviary rewrites the subsets' labels instead of two Services. */
  destinationRule: IstioDestinationRuleRef.optional(),
});

export const GatewayAPIRouting = z.object({
  httpRoute: z.object({ name: Name }),
});

export const TrafficRouting = z
  .object({ istio: IstioRouting.optional(), gatewayAPI: GatewayAPIRouting.optional() })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(
        ["istio", "gatewayAPI"],
        "set exactly one of trafficRouting.istio or trafficRouting.gatewayAPI",
      ),
    ],
  });

export type TrafficRouting = z.output<typeof TrafficRouting>;
