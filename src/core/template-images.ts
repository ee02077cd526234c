/** The images of a pod template's containers, in order (shown in notifications). */
export function containerImages(template: unknown): string[] {
  const containers = (template as { spec?: { containers?: unknown } } | undefined)?.spec
    ?.containers;
  if (!Array.isArray(containers)) return [];
  return containers.flatMap((c) => {
    const image = (c as { image?: unknown } | null)?.image;
    return typeof image === "string" ? [image] : [];
  });
}
