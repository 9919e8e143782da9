import { equal } from "node:assert/strict";
import { packageReadme, readmeDoc } from "./package_readme.ts";

Deno.test("packageReadme() writes the introduction, install, import and one table per section", () => {
  const readme = packageReadme({
    name: "@ferry/common",
    version: "0.1.0",
    doc: "ferry's common module.\n\n- Sequences: {@linkcode assemble}.",
    node: ">=20",
    license: "MIT",
    sections: [{
      title: "Sequence",
      doc: "Sequence detection.",
      symbols: [
        { name: "assemble", kind: "function", doc: "Groups names into collections. Then more.\n\n@example x" },
        { name: "Collection", kind: "class", doc: "Items that differ\nby one frame | number" },
      ],
    }, {
      title: "Events",
      doc: "",
      symbols: [{ name: "HubEvent", kind: "type", doc: "" }],
    }],
  });
  equal(
    readme,
    [
      "# @ferry/common",
      "",
      "ferry's common module.",
      "",
      "- Sequences: `assemble`.",
      "",
      "Version 0.1.0, for Node.js >=20: ES modules and CommonJS, with TypeScript declarations.",
      "",
      "## Install",
      "",
      "```sh",
      "npm install @ferry/common",
      "```",
      "",
      "## Import",
      "",
      "```js",
      'import { assemble, Collection } from "@ferry/common"; // ES modules',
      'const { assemble, Collection } = require("@ferry/common"); // CommonJS',
      "```",
      "",
      "## Sequence",
      "",
      "Sequence detection.",
      "",
      "| export | kind | what it is |",
      "|---|---|---|",
      "| `assemble` | function | Groups names into collections. |",
      "| `Collection` | class | Items that differ by one frame \\| number |",
      "",
      "## Events",
      "",
      "| export | kind | what it is |",
      "|---|---|---|",
      "| `HubEvent` | type |  |",
      "",
      "## License",
      "",
      "MIT, see LICENSE.",
      "",
    ].join("\n"),
  );
});

Deno.test("readmeDoc() points example imports at the package and labels examples", () => {
  const doc = [
    "Reads {@linkcode Collection.format} back; see {@link parse | the parser}.",
    "",
    "@example Padded",
    "```ts",
    'import { ok } from "node:assert/strict";',
    'import { parse } from "../sequence/mod.ts";',
    'ok(parse("a.%04d.exr [1]").padding === 4);',
    "```",
  ].join("\n");
  equal(
    readmeDoc(doc, "@ferry/common"),
    [
      "Reads `Collection.format` back; see the parser (`parse`).",
      "",
      "Example: Padded",
      "",
      "```ts",
      'import { ok } from "node:assert/strict";',
      'import { parse } from "@ferry/common";',
      'ok(parse("a.%04d.exr [1]").padding === 4);',
      "```",
    ].join("\n"),
  );
});

Deno.test("readmeDoc() drops examples written for Deno", () => {
  const doc = ["Hashes files.", "", "@example", "```ts", "const path = await Deno.makeTempFile();", "```", "", "More."]
    .join("\n");
  equal(readmeDoc(doc, "@ferry/common"), "Hashes files.\n\nMore.");
});
