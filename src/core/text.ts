/** Longest message kept in status: the whole status must stay far below the API server's limits. */
export const MAX_MESSAGE_LENGTH = 2_000;

/** A message cut to MAX_MESSAGE_LENGTH (with an ellipsis when cut). */
export function bound(text: string): string {
  return text.length <= MAX_MESSAGE_LENGTH ? text : `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}
