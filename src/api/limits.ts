/** Bounds the API keeps so that nothing a person writes can overflow what Kubernetes stores. */

/** Replicas are int32 in Kubernetes. */
export const MAX_REPLICAS = 2_147_483_647;

/** Longest command id a person (or a CLI) may write into status.command. */
export const MAX_COMMAND_ID = 128;
