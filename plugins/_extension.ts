/** The extension of a file name or a sequence tail, with the dot: `.exr` for `.exr` and `beauty.exr` (node's `extname` gives `""` for `.exr`). */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot < 0 ? "" : base.slice(dot);
}
