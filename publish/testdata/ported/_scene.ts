/**
 * A tiny stand-in for a DCC scene (what `maya.cmds` is to pyblish plugins): object sets of named
 * nodes, listed, queried and renamed. The host integration puts it in `context.data.scene`.
 */
export class Scene {
  readonly sets: Map<string, string[]>;

  constructor(sets: Record<string, string[]>) {
    this.sets = new Map(Object.entries(sets).map(([name, nodes]) => [name, [...nodes]]));
  }

  /** The set names matching a glob with `*` (like `cmds.ls("*_SET", type="objectSet")`), sorted. */
  ls(pattern: string): string[] {
    const regex = new RegExp(
      `^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`,
    );
    return [...this.sets.keys()].filter((name) => regex.test(name)).sort();
  }

  /** The nodes of a set (like `cmds.sets(name, query=True)`). */
  members(set: string): string[] {
    return [...(this.sets.get(set) ?? [])];
  }

  /** Renames a node everywhere (like `cmds.rename`); returns the new name. */
  rename(node: string, name: string): string {
    for (const nodes of this.sets.values()) {
      const index = nodes.indexOf(node);
      if (index >= 0) nodes[index] = name;
    }
    return name;
  }
}

/** The scene of a publish. */
export function sceneOf(context: { data: Record<string, unknown> }): Scene {
  const scene = context.data.scene;
  if (!(scene instanceof Scene)) throw new TypeError("context.data.scene is not a Scene: the host did not set it");
  return scene;
}
