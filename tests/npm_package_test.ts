/**
 * The npm package of the common module, end to end: `deno task build:npm` into a temporary folder, `npm pack`,
 * `publint` and `attw` on the tarball, then the tarball installed into a fresh project (offline: its one dependency,
 * zod, is packed from this workspace) where `node --test` runs the module's behaviours through `import` and
 * `require` (tests/npm/), and `tsc` type-checks a consumer of each format. Needs `node` and `npm` on PATH; says so
 * loudly and skips without them.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NPM_LAYOUT } from "../scripts/build/npm_layout.ts";
import { COMMON_PACKAGE, npmPackageJson } from "../scripts/build/npm_package_json.ts";

const NPM_PACKAGE_NAME = COMMON_PACKAGE.name;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; a non-zero exit fails with everything it printed, unless `allowFailure`. */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; allowFailure?: boolean },
): Promise<Ran> {
  const output = await new Deno.Command(command, { args, cwd: options.cwd, env: options.env, stdin: "null" }).output();
  const ran = {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
  if (ran.code !== 0 && !options.allowFailure) {
    throw new Error(`'${command} ${args.join(" ")}' exited with ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  }
  return ran;
}

/** The tool's version, or undefined when it is missing (Deno answers a missing `node` itself: hence `shape`). */
async function versionOf(command: string, shape: RegExp): Promise<string | undefined> {
  try {
    const version = (await run(command, ["--version"], { cwd: ROOT })).stdout.trim();
    return shape.test(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

const [NODE_VERSION, NPM_VERSION] = await Promise.all([
  versionOf("node", /^v\d+\.\d+\.\d+$/),
  versionOf("npm", /^\d+\.\d+\.\d+$/),
]);
const MISSING = [NODE_VERSION ? "" : "node", NPM_VERSION ? "" : "npm"].filter(Boolean);
if (MISSING.length > 0) {
  console.error(
    `\n${"!".repeat(100)}\n!!! SKIPPED tests/npm_package_test.ts: ${
      MISSING.join(" and ")
    } not found on PATH, so the npm ` +
      `package of the common module is NOT built, packed, installed or tested here.\n${"!".repeat(100)}\n`,
  );
}

async function temporaryFolder(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ferry-npm-package-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A consumer of each format, type-checked against the installed declarations with only `@types/node` added. */
const CONSUMER_ESM =
  `import { assemble, type Collection, fingerprintFiles, HashPool, type HubEvent, toWireEvent } from "${NPM_PACKAGE_NAME}";
export const collections: Collection[] = assemble(["a.1.exr", "a.2.exr"]).collections;
await using pool = new HashPool({ size: 1 });
export const digests: Promise<{ hex: string; size: number }[]> = fingerprintFiles(["a"], { workers: pool });
export const event: HubEvent = toWireEvent({ topic: "t", id: "1" });
// @ts-expect-error: HubEvent comes from zod's types, so it is not 'any'
export const wrong: number = event;
`;
const CONSUMER_CJS = `import ferry = require("${NPM_PACKAGE_NAME}");
const size: number = ferry.parse("a.%04d.exr [1-2]").size;
// @ts-expect-error: padding is a number
const padding: string = ferry.parse("a.%04d.exr [1-2]").padding;
export = { size, padding, cache: new ferry.ExpressionCache() };
`;

Deno.test({
  name:
    "deno task build:npm gives a package that npm packs, publint and attw pass, and Node runs from import and require",
  ignore: MISSING.length > 0,
  async fn(t) {
    await using temp = await temporaryFolder();
    const packageDir = join(temp.path, "package");
    const packs = join(temp.path, "packs");
    const project = join(temp.path, "project");
    await mkdir(packs);
    await mkdir(project);
    // A cache of its own: nothing is fetched, nothing lands in the user's cache.
    const npmEnv = { npm_config_cache: join(temp.path, "npm-cache"), npm_config_update_notifier: "false" };
    const config = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8"));
    const zodVersion = /^npm:zod@(.+)$/.exec(config.imports.zod)![1]!;
    let files: string[] = [];
    let tarball = "";

    await t.step(
      "the build:npm task emits both formats, the worker beside each, declarations and package.json",
      async () => {
        const [command, ...args] = (config.tasks["build:npm"] as string).split(" ");
        // The worker packs zod meanwhile, the package's one dependency, for the offline install below.
        const [built] = await Promise.all([
          run(command!, [...args, "--out", packageDir], { cwd: ROOT }),
          run("npm", ["pack", join(ROOT, "node_modules", "zod"), "--pack-destination", packs, "--ignore-scripts"], {
            cwd: temp.path,
            env: npmEnv,
          }),
        ]);
        match(built.stdout, new RegExp(`^Built ${NPM_PACKAGE_NAME}@${config.version} in .*dependencies: zod@\\^`));
        const packageJson = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8"));
        deepEqual(packageJson, {
          ...npmPackageJson({
            name: NPM_PACKAGE_NAME,
            version: config.version,
            description: "ferry's common module: what pipeline tools share, runtime-neutral (Deno and Node ≥ 20).",
            license: COMMON_PACKAGE.license,
            dependencies: { zod: `^${zodVersion}` },
            keywords: COMMON_PACKAGE.keywords,
          }),
        });
        files = [...Deno.readDirSync(packageDir)].map((entry) => entry.name).sort();
        deepEqual(files, ["LICENSE", "README.md", NPM_LAYOUT.esmDir, "package.json", NPM_LAYOUT.cjsDir].sort());
        const { esmDir, cjsDir } = NPM_LAYOUT;
        deepEqual(JSON.parse(await readFile(join(packageDir, cjsDir, "package.json"), "utf8")), { type: "commonjs" });
        const tree = (dir: string) =>
          [...walk(join(packageDir, dir))].map((path) => path.slice(join(packageDir, dir).length + 1)).sort();
        const esm = tree(esmDir);
        deepEqual(tree(cjsDir), [...esm, "package.json"].sort());
        for (const file of ["mod.js", "mod.d.ts", "_hash_worker.js", "src/sequence/assemble.d.ts"]) {
          ok(esm.includes(file), `esm/${file} is missing from ${esm.join(", ")}`);
        }
        ok(esm.every((file) => file.endsWith(".d.ts") || ["mod.js", "_hash_worker.js"].includes(file)), esm.join());
        for (const file of esm.filter((name) => name.endsWith(".d.ts"))) {
          for (const dir of [esmDir, cjsDir]) {
            const text = await readFile(join(packageDir, dir, file), "utf8");
            const code = text.split("\n").filter((line) => !/^\s*(\/\*\*|\*)/.test(line)).join("\n");
            ok(
              !/from\s+["']\.{1,2}\/[^"']*\.ts["']|import\(["']\.{1,2}\/[^"']*\.ts["']\)/.test(code),
              `${dir}/${file}`,
            );
          }
        }
        const assembleTypes = await readFile(join(packageDir, esmDir, "src/sequence/assemble.d.ts"), "utf8");
        match(assembleTypes, /\/\*\*[\s\S]*@example[\s\S]*export declare function assemble\(/);
        match(await readFile(join(packageDir, cjsDir, "mod.js"), "utf8"), /^const __ferry_import_meta_url = require\(/);
        const readme = await readFile(join(packageDir, "README.md"), "utf8");
        for (const heading of ["# @ferry/common", "## Install", "## Sequence", "## Fingerprint", "## Events"]) {
          ok(readme.includes(`\n${heading}\n`) || readme.startsWith(`${heading}\n`), `README lacks '${heading}'`);
        }
        ok(readme.includes("| `HashPool` | class |") && !readme.includes("Deno."), readme);
        equal(await readFile(join(packageDir, "LICENSE"), "utf8"), await readFile(join(ROOT, "LICENSE"), "utf8"));
      },
    );

    await t.step("npm pack puts every built file in the tarball", async () => {
      const packed = await run("npm", ["pack", "--json", "--pack-destination", packs, "--ignore-scripts"], {
        cwd: packageDir,
        env: npmEnv,
      });
      const [report] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      equal(report!.filename, `ferry-common-${config.version}.tgz`);
      tarball = join(packs, report!.filename);
      const inTarball = report!.files.map((file) => file.path).sort();
      deepEqual(inTarball, [...walk(packageDir)].map((path) => path.slice(packageDir.length + 1)).sort());
      ok(inTarball.includes("esm/_hash_worker.js") && inTarball.includes("script/_hash_worker.js"));
    });

    // publint and attw work on the tarball while the package is installed and tested.
    const linting = Promise.all([
      run(join(BIN, "publint"), ["run", tarball, "--strict", "--level", "suggestion"], { cwd: temp.path }),
      run(join(BIN, "attw"), [tarball, "--format", "json"], { cwd: temp.path, allowFailure: true }),
    ]);
    linting.catch(() => undefined); // awaited in the last step

    await t.step(`the installed package passes the behaviour tests under Node (${NODE_VERSION})`, async () => {
      ok(Number(/^v(\d+)\./.exec(NODE_VERSION!)?.[1]) >= 20, `Node ${NODE_VERSION} is older than 20`);
      await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }));
      const zodTarball = join(packs, `zod-${zodVersion}.tgz`);
      await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball, zodTarball], {
        cwd: project,
        env: npmEnv,
      });
      const testFiles = ["_behaviours.cjs", "package_esm.mjs", "package_cjs.cjs"];
      for (const file of testFiles) await cp(join(ROOT, "tests", "npm", file), join(project, file));
      const tested = await run("node", ["--test", "--test-reporter=tap", "package_esm.mjs", "package_cjs.cjs"], {
        cwd: project,
        allowFailure: true,
      });
      const count = async (file: string) =>
        (await readFile(join(ROOT, "tests", "npm", file), "utf8")).match(/^\s*test\(/gm)?.length ?? 0;
      const [behaviours, esmOnly, cjsOnly] = await Promise.all(testFiles.map(count));
      const expected = 2 * behaviours! + esmOnly! + cjsOnly!;
      const summary = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(tested.stdout)?.[1]);
      equal(tested.code, 0, tested.stdout + tested.stderr);
      deepEqual([summary("pass"), summary("fail")], [expected, 0], tested.stdout);
    });

    await t.step("TypeScript consumers of either format type-check against the installed declarations", async () => {
      await writeFile(join(project, "consumer.mts"), CONSUMER_ESM);
      await writeFile(join(project, "consumer.cts"), CONSUMER_CJS);
      const compilerOptions = {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules", "@types")],
      };
      const tsconfig = { compilerOptions, files: ["consumer.mts", "consumer.cts"] };
      await writeFile(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
      await run(join(BIN, "tsc"), ["-p", "tsconfig.json"], { cwd: project });
    });

    await t.step("publint and attw report nothing on the tarball", async () => {
      const [publint, attw] = await linting;
      match(publint.stdout, /All good!/, publint.stdout + publint.stderr);
      const analysis = JSON.parse(attw.stdout) as { problems: Record<string, unknown> | unknown[] };
      deepEqual(Object.values(analysis.problems).flat(), [], attw.stdout);
      equal(attw.code, 0, attw.stderr);
    });
  },
});

function* walk(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}
