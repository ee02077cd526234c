/**
 * Webhook URLs are credentials (whoever has a Slack webhook URL can post to the channel),
 * and so are HMAC signing keys. They never reach logs, status, Events or error texts:
 * error texts are scrubbed before they are stored or logged, and the controller's pino
 * logger censors the fields they could hide in, as a second line of defence.
 */

export const REDACTED = "[redacted]";

/** pino `redact` paths: fields where a URL, a key or a signed header could turn up. */
export const REDACT_PATHS: string[] = [
  "url",
  "*.url",
  "webhookUrl",
  "*.webhookUrl",
  "signingKey",
  "*.signingKey",
  "headers",
  "*.headers",
  "err.cause",
  "err.config",
  "err.original",
];

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Removes every URL, and each given secret wherever it appears, from a text. */
export function scrub(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    out = out.split(secret).join(REDACTED);
    // fetch and URL parsers may quote the path alone, or percent-encoded.
    try {
      const { pathname, search } = new URL(secret);
      if (pathname.length > 1) out = out.split(pathname + search).join(REDACTED);
    } catch {
      // not a URL: a signing key, already removed above
    }
  }
  return out.replace(URL_PATTERN, "<url>");
}
