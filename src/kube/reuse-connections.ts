import type { KubeConfig } from "@kubernetes/client-node";

/**
 * client-node 2.0 builds a new undici Agent for every request it sends, so no connection
 * is ever reused: every list, watch, patch and Lease renewal pays a TLS handshake. A
 * controller that starts dozens of watches at once (a namespace list, on becoming leader)
 * then starves its own Lease renewals. This keeps one Agent per cluster and credentials.
 */
export function reuseConnections(kubeConfig: KubeConfig): void {
  const target = kubeConfig as unknown as {
    createDispatcher?: (cluster: unknown, options: Record<string, unknown>) => unknown;
  };
  const original = target.createDispatcher?.bind(kubeConfig);
  if (original === undefined) return;
  const agents = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = JSON.stringify([cluster, options, String(options.cert), String(options.key)]);
    let agent = agents.get(key);
    if (agent === undefined) agents.set(key, (agent = original(cluster, options)));
    return agent;
  };
}
