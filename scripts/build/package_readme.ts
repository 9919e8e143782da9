/** One export of the package, for the README's tables. */
export interface ApiSymbol {
  /** The exported name. */
  name: string;
  /** `class`, `function`, `constant`, `interface` or `type`. */
  kind: string;
  /** Its JSDoc, as written. */
  doc: string;
}

/** One part of the common module (a folder of `src/`). */
export interface ReadmeSection {
  /** The heading. */
  title: string;
  /** The folder's `@module` doc, as written (`""` for none). */
  doc: string;
  /** What the package exports from the folder. */
  symbols: ApiSymbol[];
}

/** What {@linkcode packageReadme} needs. */
export interface PackageReadmeOptions {
  /** The npm name. */
  name: string;
  /** The version. */
  version: string;
  /** The `@module` doc of the entry (`mod.ts`), as written. */
  doc: string;
  /** The Node versions supported, e.g. `>=20`. */
  node: string;
  /** An SPDX identifier. */
  license: string;
  /** The parts, in order. */
  sections: readonly ReadmeSection[];
}

/**
 * The npm package's README, made from the module's JSDoc: the entry's `@module` doc as the introduction, how to
 * install and import it, then per part its `@module` doc and a table of its exports with the first sentence of
 * each one's JSDoc. Examples import from the package name; examples written for Deno (`Deno.*`) are left out.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { packageReadme } from "./package_readme.ts";
 *
 * const readme = packageReadme({ name: "@ferry/common", version: "0.1.0", doc: "Shared code.", node: ">=20", license: "MIT", sections: [] });
 * ok(readme.startsWith("# @ferry/common\n\nShared code.\n"));
 * ```
 */
export function packageReadme(options: PackageReadmeOptions): string {
  const { name, version, doc, node, license, sections } = options;
  const first = sections.flatMap((section) => section.symbols)
    .filter((symbol) => RUNTIME_KINDS.has(symbol.kind))
    .slice(0, 2)
    .map((symbol) => symbol.name)
    .join(", ");
  const lines = [
    `# ${name}`,
    "",
    readmeDoc(doc, name),
    "",
    `Version ${version}, for Node.js ${node}: ES modules and CommonJS, with TypeScript declarations.`,
    "",
    "## Install",
    "",
    "```sh",
    `npm install ${name}`,
    "```",
    "",
    "## Import",
    "",
    "```js",
    `import { ${first} } from "${name}"; // ES modules`,
    `const { ${first} } = require("${name}"); // CommonJS`,
    "```",
  ];
  for (const section of sections) {
    lines.push("", `## ${section.title}`, "");
    if (section.doc !== "") lines.push(readmeDoc(section.doc, name), "");
    lines.push("| export | kind | what it is |", "|---|---|---|");
    for (const symbol of section.symbols) {
      lines.push(`| \`${symbol.name}\` | ${symbol.kind} | ${tableCell(firstSentence(symbol.doc))} |`);
    }
  }
  lines.push("", "## License", "", `${license}, see LICENSE.`, "");
  return lines.join("\n");
}

/**
 * A JSDoc text made into Markdown for the README: `{@linkcode X}` becomes `` `X` ``, `@example` a label, relative
 * imports in examples the package name; examples that use `Deno.*` are dropped.
 */
export function readmeDoc(doc: string, packageName: string): string {
  const examples = doc.replace(
    /(?:^@example([^\n]*)\n)?^```(\w*)\n([\s\S]*?)^```$\n?/gm,
    (_whole, title: string | undefined, language: string, code: string) => {
      if (/\bDeno\./.test(code)) return "";
      const label = title === undefined ? "" : `Example${title.trim() === "" ? "" : `: ${title.trim()}`}\n\n`;
      const imports = code.replace(/(from\s+)(["'])\.\.?\/[^"']*\2/g, `$1"${packageName}"`);
      return `${label}\`\`\`${language}\n${imports}\`\`\`\n`;
    },
  );
  return inlineLinks(examples).replace(/\n{3,}/g, "\n\n").trim();
}

const RUNTIME_KINDS = new Set(["class", "function", "constant"]);

function inlineLinks(text: string): string {
  return text.replace(/\{@link(?:code|plain)?\s+([^}|\s]+)(?:[\s|]+([^}]*))?\}/g, (_whole, target: string, label) => {
    return label ? `${label} (\`${target}\`)` : `\`${target}\``;
  });
}

function firstSentence(doc: string): string {
  const paragraph = inlineLinks(doc.split(/\n\s*\n|\n@/)[0] ?? "").replace(/\s+/g, " ").trim();
  const end = /[.!?](?=\s|$)/.exec(paragraph);
  return end === null ? paragraph : paragraph.slice(0, end.index + 1);
}

function tableCell(text: string): string {
  return text.replaceAll("|", "\\|");
}
