/**
 * Release bundles (`deno task release`): built into temporary folders, their archives listed with the real
 * `tar` / `unzip`, `SHA256SUMS` recomputed and checked by `sha256sum --check`, and the version of `deno.json`
 * found stamped in every artefact (the add-on's `bl_info`, the Python client's `__version__`, the npm
 * package), the add-on installed in real Blender and the client imported by real Python from its zip.
 */
import { ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, readdirSync, symlinkSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unzipSync } from "fflate";
import config from "../deno.json" with { type: "json" };
import { parsePublishSettings } from "../publish/settings.ts";
import { BINARIES } from "../scripts/build/binaries.ts";
import { hostTarget, resolveTargets } from "../scripts/build/compile_targets.ts";
import { versionTuple } from "../scripts/build/stamp_version.ts";
import { buildRelease, main, type Release, ReleaseError } from "../scripts/release.ts";
import { USAGE as TRACKER_USAGE } from "../services/tracker/main.ts";
import { USAGE as BRIDGE_USAGE } from "../services/bridge/main.ts";
import { USAGE as LEECHER_USAGE } from "../services/leecher/main.ts";
import { USAGE as PROCESSOR_USAGE } from "../services/processor/main.ts";
import { USAGE as WEB_USAGE } from "../services/web/main.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const decoder = new TextDecoder();

async function tempFolder(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Runs a program; `undefined` when it is not installed. */
async function tool(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  try {
    const output = await new Deno.Command(command, { args, ...options, stdout: "piped", stderr: "piped" }).output();
    return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The Python client's `__version__` and the add-on's `bl_info` version, read from the release's zips. */
async function stampedVersions(release: Release) {
  const addon = unzipSync(await readFile(join(release.out, `ferry_blender-${release.version}.zip`)));
  const client = unzipSync(await readFile(join(release.out, `ferry_host-${release.version}.zip`)));
  const pyVersion = (bytes: Uint8Array | undefined) => /^__version__ = "([^"]*)"$/m.exec(decoder.decode(bytes))?.[1];
  const blInfo = /"version": \((\d+), (\d+), (\d+)\)/.exec(decoder.decode(addon["ferry_blender/__init__.py"]));
  return {
    blInfo: blInfo ? blInfo.slice(1).map(Number) : undefined,
    vendoredClient: pyVersion(addon["ferry_blender/ferry_host/__init__.py"]),
    client: pyVersion(client["ferry_host/__init__.py"]),
    clientFiles: Object.keys(client).sort(),
  };
}

/** The npm tarball's `package.json`, read with the real `tar`. */
async function npmPackageJson(release: Release): Promise<{ name: string; version: string } | undefined> {
  const tarball = release.artefacts.find((file) => file.endsWith(".tgz"))!;
  const read = await tool("tar", ["-xzOf", join(release.out, tarball), "package/package.json"]);
  if (read === undefined) return undefined;
  ok(read.code === 0, read.stderr);
  return JSON.parse(read.stdout);
}

Deno.test({
  name: "buildRelease() makes per-target archives, the add-on, the client and the npm tarball, listed in SHA256SUMS",
  sanitizeResources: false,
  async fn(t) {
    await using out = await tempFolder("ferry-release-");
    const targets = resolveTargets(["linux-x86_64", "windows-x86_64"]);
    const lines: string[] = [];
    const release = await buildRelease({
      out: out.path,
      targets,
      allowMissingBinaries: true,
      check: false, // the test command type-checks everything already
      log: (line) => lines.push(line),
    });
    const available = BINARIES.filter((binary) => !release.notYet.includes(binary.name));
    const without = release.archives.filter((archive) => archive.missing);
    if (without.length > 0) {
      console.warn(
        `\n*** release built WITHOUT BINARIES for ${without.map((archive) => archive.target).join(", ")}: ` +
          `${without[0]!.missing} ***\n`,
      );
    }
    const version = config.version;

    await t.step("the artefacts are named after the version, and SHA256SUMS lists each with its digest", async () => {
      const archives = release.archives.map((archive) => archive.file);
      ok(archives[0] === `ferry-${version}-linux-x86_64${release.archives[0]!.missing ? "-nobin" : ""}.tar.gz`);
      ok(archives[1] === `ferry-${version}-windows-x86_64${release.archives[1]!.missing ? "-nobin" : ""}.zip`);
      const expected = [...archives, `ferry_blender-${version}.zip`, `ferry_host-${version}.zip`]
        .concat(`ferry-common-${version}.tgz`).sort();
      ok(JSON.stringify(release.artefacts) === JSON.stringify(expected), JSON.stringify(release.artefacts));
      ok(JSON.stringify(readdirSync(out.path).sort()) === JSON.stringify([...expected, "SHA256SUMS"].sort()));
      const sums = (await readFile(join(out.path, "SHA256SUMS"), "utf8")).trimEnd().split("\n");
      ok(sums.length === expected.length, sums.join("\n"));
      for (const line of sums) {
        const [digest, name] = line.split("  ");
        const actual = createHash("sha256").update(await readFile(join(out.path, name!))).digest("hex");
        ok(digest === actual, `${name}: ${digest} ≠ ${actual}`);
      }
      const checked = await tool("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: out.path });
      if (checked === undefined) console.warn("\n*** SKIPPED: sha256sum --check (sha256sum is not installed) ***\n");
      else ok(checked.code === 0 && checked.stdout.split("\n").filter((l) => l.endsWith(": OK")).length === 5);
    });

    await t.step("the Linux archive holds bin/, README, LICENSE, example settings and systemd units", async () => {
      const archive = release.archives[0]!;
      const top = `ferry-${version}-linux-x86_64`;
      const listed = await tool("tar", ["-tvzf", join(out.path, archive.file)]);
      if (listed === undefined) {
        console.warn("\n*** SKIPPED: the tar listing (tar is not installed) ***\n");
        return;
      }
      ok(listed.code === 0, listed.stderr);
      const entries = listed.stdout.trim().split("\n").map((line) => {
        const fields = line.trim().split(/\s+/);
        return { mode: fields[0]!, path: fields.at(-1)! };
      });
      const paths = entries.map((entry) => entry.path).sort();
      const binaries = archive.missing ? [] : available.map((binary) => `${top}/bin/${binary.name}`);
      const expected = [
        `${top}/`,
        `${top}/LICENSE`,
        `${top}/README.md`,
        `${top}/settings.example.json`,
        `${top}/systemd/`,
        ...[
          "ferry-bridge.service",
          "ferry-leecher.service",
          "ferry-processor.service",
          "ferry-tracker.service",
          "ferry-transmitter.service",
          "ferry-web.service",
        ]
          .map((unit) => `${top}/systemd/${unit}`),
        `${top}/systemd/ferry.env`,
        ...(binaries.length > 0 ? [`${top}/bin/`, ...binaries] : []),
      ].sort();
      ok(JSON.stringify(paths) === JSON.stringify(expected), `${paths.join("\n")}\n≠\n${expected.join("\n")}`);
      for (const entry of entries) {
        if (entry.path.includes("/bin/") && !entry.path.endsWith("/")) ok(entry.mode === "-rwxr-xr-x", entry.path);
        else if (!entry.path.endsWith("/")) ok(entry.mode === "-rw-r--r--", `${entry.mode} ${entry.path}`);
      }
      await using unpacked = await tempFolder("ferry-release-unpacked-");
      const extracted = await tool("tar", ["-xzf", join(out.path, archive.file), "-C", unpacked.path]);
      ok(extracted?.code === 0, extracted?.stderr);
      for (
        const [inside, source] of [["README.md", "README.md"], ["LICENSE", "LICENSE"], [
          "settings.example.json",
          "examples/settings.json",
        ]]
      ) {
        ok((await readFile(join(unpacked.path, top, inside!))).equals(await readFile(join(ROOT, source!))), inside);
      }
      const settings = parsePublishSettings(
        JSON.parse(await readFile(join(unpacked.path, top, "settings.example.json"), "utf8")),
      );
      ok(settings.uploadConcurrency >= 1 && settings.structure.includes("{version}"));
    });

    await t.step("the Windows archive is a zip with .exe binaries and no systemd units", async () => {
      const archive = release.archives[1]!;
      const top = `ferry-${version}-windows-x86_64`;
      const entries = Object.keys(unzipSync(await readFile(join(out.path, archive.file)))).sort();
      const binaries = archive.missing ? [] : available.map((binary) => `${top}/bin/${binary.name}.exe`);
      const expected = [`${top}/LICENSE`, `${top}/README.md`, `${top}/settings.example.json`, ...binaries].sort();
      ok(JSON.stringify(entries) === JSON.stringify(expected), entries.join("\n"));
      const tested = await tool("unzip", ["-tq", join(out.path, archive.file)]);
      if (tested === undefined) console.warn("\n*** SKIPPED: unzip -t (unzip is not installed) ***\n");
      else ok(tested.code === 0, tested.stdout + tested.stderr);
    });

    await t.step("the version of deno.json is in the add-on, the client and the npm package", async () => {
      const stamped = await stampedVersions(release);
      ok(JSON.stringify(stamped.blInfo) === JSON.stringify(versionTuple(version)), JSON.stringify(stamped.blInfo));
      ok(stamped.vendoredClient === version && stamped.client === version, JSON.stringify(stamped));
      ok(stamped.clientFiles.includes("ferry_host/client.py") && stamped.clientFiles.every((f) => f.endsWith(".py")));
      const packageJson = await npmPackageJson(release);
      ok(packageJson === undefined || packageJson.version === version, JSON.stringify(packageJson));
    });

    await t.step("Python imports the client from its zip and reads the version", async () => {
      const zip = join(out.path, `ferry_host-${version}.zip`);
      const python = await tool("python3", [
        "-c",
        "import ferry_host; print(ferry_host.__version__, ferry_host.__file__)",
      ], {
        env: { PYTHONPATH: zip, PATH: Deno.env.get("PATH") ?? "" },
      });
      if (python === undefined) {
        console.warn("\n*** SKIPPED: importing the client zip (python3 is not installed) ***\n");
        return;
      }
      ok(python.code === 0 && python.stdout.startsWith(`${version} ${zip}`), python.stdout + python.stderr);
    });

    await t.step("Blender installs and enables the add-on zip and reports the stamped version", async () => {
      await using work = await tempFolder("ferry-release-blender-");
      const script = join(work.path, "check.py");
      await writeFile(
        script,
        [
          "import sys, addon_utils, bpy",
          "bpy.ops.preferences.addon_install(filepath=sys.argv[-1])",
          "addon_utils.enable('ferry_blender', default_set=True, handle_error=None)",
          "import ferry_blender",
          "print('FERRY', tuple(ferry_blender.bl_info['version']), ferry_blender._client.ferry_host.__version__)",
        ].join("\n"),
      );
      const blender = await tool("blender", [
        "-b",
        "--factory-startup",
        "--python-exit-code",
        "1",
        "--python",
        script,
        "--",
        join(out.path, `ferry_blender-${version}.zip`),
      ], {
        env: {
          PATH: Deno.env.get("PATH") ?? "",
          HOME: work.path,
          TMPDIR: work.path,
          BLENDER_USER_SCRIPTS: join(work.path, "scripts"),
          BLENDER_USER_CONFIG: join(work.path, "config"),
        },
      });
      if (blender === undefined) {
        console.warn("\n*** SKIPPED: installing the add-on in Blender (blender is not installed) ***\n");
        return;
      }
      const [major, minor, patch] = versionTuple(version);
      ok(
        blender.code === 0 && blender.stdout.includes(`FERRY (${major}, ${minor}, ${patch}) ${version}`),
        blender.stdout + blender.stderr,
      );
    });

    await t.step("each systemd unit starts a ferry binary with flags that binary has", async () => {
      const usages: Record<string, string> = {
        "ferry-tracker": TRACKER_USAGE,
        "ferry-bridge": BRIDGE_USAGE,
        "ferry-leecher": LEECHER_USAGE,
        "ferry-processor": PROCESSOR_USAGE,
        "ferry-web": WEB_USAGE,
      };
      for (const [name, usage] of Object.entries(usages)) {
        const unit = await readFile(join(ROOT, "examples", "systemd", `${name}.service`), "utf8");
        const exec = /^ExecStart=(\S+)(.*)$/m.exec(unit);
        ok(exec && exec[1] === `/opt/ferry/bin/${name}`, `${name}: ${exec?.[0]}`);
        for (const flag of exec[2]!.match(/--[a-z-]+/g) ?? []) ok(usage.includes(flag), `${name}: ${flag}`);
        ok(/^\[Install\]$/m.test(unit) && /^\[Service\]$/m.test(unit) && /^Restart=/m.test(unit), name);
      }
    });
  },
});

Deno.test({
  name: "buildRelease() stamps whatever version deno.json has into the add-on, the client and the npm tarball",
  sanitizeResources: false,
  async fn() {
    await using copy = await tempFolder("ferry-release-checkout-");
    // What a release is built from (the checkout's own files; node_modules shared).
    const sources = ["deno.json", "package.json", "LICENSE", "README.md", "mod.ts", "src", "publish", "plugins"]
      .concat("services", "scripts", "hosts", "examples");
    for (const entry of sources) cpSync(join(ROOT, entry), join(copy.path, entry), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(copy.path, "node_modules"), "dir");
    const denoJson = JSON.parse(await readFile(join(copy.path, "deno.json"), "utf8"));
    await writeFile(join(copy.path, "deno.json"), JSON.stringify({ ...denoJson, version: "7.8.9-rc.1" }, null, 2));
    await using out = await tempFolder("ferry-release-");
    const release = await buildRelease({ root: copy.path, out: out.path, targets: [], check: false, log: () => {} });
    ok(release.version === "7.8.9-rc.1");
    ok(
      JSON.stringify(release.artefacts) ===
        JSON.stringify(["ferry-common-7.8.9-rc.1.tgz", "ferry_blender-7.8.9-rc.1.zip", "ferry_host-7.8.9-rc.1.zip"]),
      JSON.stringify(release.artefacts),
    );
    const stamped = await stampedVersions(release);
    ok(JSON.stringify(stamped.blInfo) === "[7,8,9]", JSON.stringify(stamped.blInfo));
    ok(stamped.vendoredClient === "7.8.9-rc.1" && stamped.client === "7.8.9-rc.1", JSON.stringify(stamped));
    const packageJson = await npmPackageJson(release);
    ok(packageJson === undefined || packageJson.version === "7.8.9-rc.1", JSON.stringify(packageJson));
  },
});

Deno.test({
  name: "buildRelease() without --allow-missing-binaries fails (exit 3) naming DENORT_BIN; main() refuses bad flags",
  sanitizeResources: false,
  async fn() {
    const host = hostTarget(Deno.build.target);
    await using out = await tempFolder("ferry-release-");
    if (host !== undefined) {
      const missing = join(out.path, "no-such-denort");
      try {
        await buildRelease({
          out: join(out.path, "release"),
          targets: [host],
          env: { ...Deno.env.toObject(), DENORT_BIN: missing },
          check: false,
          log: () => {},
        });
        ok(false, "no error");
      } catch (error) {
        ok(error instanceof ReleaseError && error.exitCode === 3, String(error));
        ok(error.message.includes(`DENORT_BIN='${missing}'`) && error.message.includes("--allow-missing-binaries"));
      }
    }
    await mkdir(join(out.path, "full"));
    await writeFile(join(out.path, "full", "keep.txt"), "mine");
    ok(await main(["--out", join(out.path, "full"), "--target", "linux-arm64", "--allow-missing-binaries"]) === 2);
    ok((await readFile(join(out.path, "full", "keep.txt"), "utf8")) === "mine");
    ok(await main(["--target", "amiga"]) === 2);
    ok(await main(["--help"]) === 0);
  },
});
