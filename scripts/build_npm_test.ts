import { equal, match, rejects } from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { buildNpmPackage, main } from "./build_npm.ts";

/** Captures what `fn` writes to the console. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const { log, error } = console;
  let out = "";
  let err = "";
  console.log = (...parts: unknown[]) => void (out += parts.join(" ") + "\n");
  console.error = (...parts: unknown[]) => void (err += parts.join(" ") + "\n");
  try {
    return { code: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("main() prints the usage for --help and exits 0", async () => {
  const { code, out } = await captured(() => main(["--help"]));
  equal(code, 0);
  match(out, /^Usage: deno task build:npm \[--out <folder>\]/);
});

Deno.test("main() rejects an unknown flag or a stray argument with exit code 2, naming it", async () => {
  const unknown = await captured(() => main(["--outdir", "x"]));
  equal(unknown.code, 2);
  match(unknown.err, /^build:npm: Unknown option '--outdir'/);
  const stray = await captured(() => main(["dist"]));
  equal(stray.code, 2);
  match(stray.err, /^build:npm: Unexpected argument 'dist'\n\nUsage:/);
});

Deno.test("buildNpmPackage() names a missing or foreign LICENSE before building anything", async () => {
  const root = await mkdtemp(join(tmpdir(), "ferry-build-npm-"));
  try {
    await copyFile(new URL("../deno.json", import.meta.url), join(root, "deno.json"));
    await rejects(
      buildNpmPackage({ root, outDir: join(root, "out") }),
      new RegExp(`Cannot build the npm package: '${join(root, "LICENSE")}' cannot be read`),
    );
    await writeFile(join(root, "LICENSE"), "Apache License\nVersion 2.0\n");
    await rejects(buildNpmPackage({ root, outDir: join(root, "out") }), /is not the MIT License the package declares/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("buildNpmPackage() names a bad version in deno.json", async () => {
  const root = await mkdtemp(join(tmpdir(), "ferry-build-npm-"));
  try {
    await writeFile(join(root, "deno.json"), JSON.stringify({ name: "@ferry/ferry", version: "v1" }));
    await rejects(buildNpmPackage({ root }), /Cannot read '.*deno\.json': version "v1": expected a semver version/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** A repository with this one's deno.json, LICENSE and node_modules, and `mod.ts` as given. */
async function fixture(mod: string): Promise<{ root: string } & AsyncDisposable> {
  const root = await mkdtemp(join(tmpdir(), "ferry-build-npm-"));
  const here = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
  await copyFile(here("deno.json"), join(root, "deno.json"));
  await copyFile(here("LICENSE"), join(root, "LICENSE"));
  await symlink(here("node_modules"), join(root, "node_modules"), "dir");
  await mkdir(join(root, "src", "fingerprint"), { recursive: true });
  await writeFile(join(root, "src", "fingerprint", "_hash_worker.ts"), "export {};\n");
  await writeFile(join(root, "mod.ts"), mod);
  return { root, [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }) };
}

Deno.test("buildNpmPackage() stops on a type error, listing it with file and line", async () => {
  await using repo = await fixture(`/** Doc. @module */\nexport const frames: number = "1001";\n`);
  try {
    await rejects(
      buildNpmPackage({ root: repo.root }),
      /Cannot emit the declarations of 'mod\.ts': 1 type errors\nmod\.ts\(2,14\): error TS2322: Type 'string' is not assignable to type 'number'/,
    );
  } finally {
    await esbuild.stop();
  }
});

Deno.test("buildNpmPackage() names a package the module imports that deno.json does not map", async () => {
  await using repo = await fixture(`/** Doc. @module */\nexport { version } from "esbuild";\n`);
  try {
    await rejects(
      buildNpmPackage({ root: repo.root }),
      /Cannot build the npm package: the common module imports 'esbuild', which deno.json's imports do not map/,
    );
  } finally {
    await esbuild.stop();
  }
});

Deno.test("buildNpmPackage() stops on an esbuild warning, naming file and line", async () => {
  await using repo = await fixture(`/** Doc. @module */\nexport const isZero = (x: number): boolean => x === -0;\n`);
  try {
    await rejects(
      buildNpmPackage({ root: repo.root }),
      /esbuild warns\nmod\.ts:2: Comparison with -0 using the "===" operator/,
    );
  } finally {
    await esbuild.stop();
  }
});
