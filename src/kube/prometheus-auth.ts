import type { AnalysisSpec } from "../api/rollout.ts";
import type { PrometheusAuth } from "../metrics/prometheus.ts";
import type { SecretCache } from "./secret-cache.ts";

/** Credentials for Prometheus, or why they could not be read (the analysis then holds, saying so). */
export type ResolvedAuth =
  { ok: true; auth: PrometheusAuth | undefined } | { ok: false; error: string };

/** Reads the bearer token or basic-auth pair named in analysis.prometheus from Secrets of the Rollout's namespace. */
export async function resolvePrometheusAuth(
  secrets: Pick<SecretCache, "read">,
  namespace: string,
  settings: AnalysisSpec["prometheus"],
): Promise<ResolvedAuth> {
  const read = async (
    name: string,
    key: string,
    field: string,
  ): Promise<string | { error: string }> => {
    const secret = await secrets.read(namespace, name);
    const value = secret?.data?.[key];
    if (secret === undefined)
      return {
        error: `${field}: Secret "${name}" not found in namespace "${namespace}"; create it or fix the name`,
      };
    if (value === undefined)
      return {
        error: `${field}: Secret "${name}" has no key "${key}" (keys: ${Object.keys(secret.data ?? {}).join(", ") || "none"})`,
      };
    return Buffer.from(value, "base64").toString("utf8");
  };
  const bearer = settings?.bearerTokenSecretRef;
  if (bearer !== undefined) {
    const token = await read(bearer.name, bearer.key, "analysis.prometheus.bearerTokenSecretRef");
    return typeof token === "string"
      ? { ok: true, auth: { bearerToken: token } }
      : { ok: false, error: token.error };
  }
  const basic = settings?.basicAuthSecretRef;
  if (basic !== undefined) {
    const field = "analysis.prometheus.basicAuthSecretRef";
    const username = await read(basic.name, basic.usernameKey, field);
    const password = await read(basic.name, basic.passwordKey, field);
    if (typeof username !== "string") return { ok: false, error: username.error };
    if (typeof password !== "string") return { ok: false, error: password.error };
    return { ok: true, auth: { username, password } };
  }
  return { ok: true, auth: undefined };
}
