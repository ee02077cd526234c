/**
 * The message of a Kubernetes API error (the Status object's `message`), which is what
 * a person sees from kubectl. Falls back to the error's own text.
 */
export function apiErrorMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === "string") return status.message;
    } catch {
      // Not JSON: use the text as it is.
    }
    return body;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The HTTP status code of a Kubernetes API error, if it has one. */
export function apiErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}
