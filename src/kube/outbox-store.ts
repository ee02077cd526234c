import { parseRollout } from "../api/load.ts";
import type { OutboxStore } from "../notify/delivery.ts";
import { StaleRolloutError } from "./api-errors.ts";
import type { KubePorts } from "./ports.ts";
import type { RolloutReader } from "./rollout-reader.ts";

/**
 * The notification outbox on the API server: Rollouts read as reconciles read them (the
 * watch cache with our own writes laid over it), written through the same conditional
 * status merge patch, so delivery and reconciles never overwrite each other.
 */
export function kubeOutboxStore(reader: RolloutReader, ports: KubePorts): OutboxStore {
  return {
    read: async (namespace, name) => {
      const raw = await reader.read(namespace, name);
      if (raw === undefined) return undefined;
      // An invalid spec says nothing trustworthy about targets: delivery waits until it is fixed.
      const parsed = parseRollout(raw);
      return parsed.ok ? parsed.rollout : undefined;
    },
    write: async (rollout, status) => {
      try {
        await ports.writeStatus(rollout, status);
        return "written";
      } catch (error) {
        if (!(error instanceof StaleRolloutError)) throw error;
        reader.markStale(rollout.metadata.namespace ?? "default", rollout.metadata.name);
        return "stale";
      }
    },
    emit: (rollout, event) => ports.emit(rollout, event),
  };
}
