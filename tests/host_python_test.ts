/**
 * ferry's Python client (hosts/python) with the Python of the machine (Debian's python3 in CI): its unit tests,
 * then its live tests against a REAL bridge that the client starts itself (`deno task bridge` in this checkout)
 * publishing to the embedded tracker in this process; what they published is checked through @ftrack/api.
 */
import { ok, strictEqual } from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ferryHome } from "../src/config/ferry_home.ts";
import { checkFile, checkSequence, hasCommand, hostFixture, publishedVersion, PYTHON, ROOT, run } from "./_hosts.ts";

const HAS_PYTHON = await hasCommand(PYTHON);
if (!HAS_PYTHON) {
  console.warn(`\n*** SKIPPED: the Python client tests need '${PYTHON}' (apt-get install python3) ***\n`);
}

const UNIT = [
  "tests.test_home",
  "tests.test_sse",
  "tests.test_request",
  "tests.test_bridge_discovery",
  "tests.test_python37",
];
const LIVE = ["tests.test_live_client", "tests.test_live_cli"];

Deno.test({
  name: "ferry_host: the unit tests pass with python3 (FERRY_HOME rules, SSE parsing, requests, Python 3.7 syntax)",
  ignore: !HAS_PYTHON,
  fn: async () => {
    const env = { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/", PYTHONDONTWRITEBYTECODE: "1" };
    const unit = await run(PYTHON, ["-m", "unittest", "-v", ...UNIT], { env, cwd: join(ROOT, "hosts", "python") });
    ok(unit.code === 0, unit.stderr);
    const ran = Number(/Ran (\d+) tests/.exec(unit.stderr)?.[1] ?? 0);
    ok(ran >= 24, `expected the unit tests to run:\n${unit.stderr}`);
    // The examples in the docstrings: every module of the package.
    const doctest = await run(PYTHON, [
      "-c",
      "import doctest, importlib, json, pkgutil, ferry_host\n" +
      "names = [m.name for m in pkgutil.iter_modules(ferry_host.__path__) if m.name != '__main__']\n" +
      "results = [doctest.testmod(importlib.import_module('ferry_host.' + n)) for n in names]\n" +
      "print(json.dumps([sum(r.attempted for r in results), sum(r.failed for r in results)]))",
    ], { env, cwd: join(ROOT, "hosts", "python") });
    strictEqual(doctest.code, 0, doctest.stdout + doctest.stderr);
    const [attempted, failed] = JSON.parse(doctest.stdout.trim().split("\n").at(-1)!);
    strictEqual(failed, 0, doctest.stdout);
    ok(attempted >= 10, `only ${attempted} doctest examples ran`);
  },
});

Deno.test({
  name: "ferry_home() in Python gives ferryHome()'s answer for every environment on Linux and macOS",
  ignore: !HAS_PYTHON,
  fn: async () => {
    const cases = [];
    for (const platform of ["linux", "darwin"]) {
      for (const home of ["/home/a", "/home/a/", "/Users/b c"]) {
        for (const FERRY_HOME of [undefined, "", "/srv/ferry", "rel/ferry/"]) {
          for (const XDG_DATA_HOME of [undefined, "", "/data/x/", "/data//y", "relative"]) {
            const env: Record<string, string> = {};
            if (FERRY_HOME !== undefined) env.FERRY_HOME = FERRY_HOME;
            if (XDG_DATA_HOME !== undefined) env.XDG_DATA_HOME = XDG_DATA_HOME;
            cases.push({ env, platform, home });
          }
        }
      }
    }
    const script = "import json, sys\nfrom ferry_host.home import ferry_home\n" +
      "print(json.dumps([ferry_home(c['env'], c['platform'], c['home']) for c in json.load(sys.stdin)]))";
    const child = new Deno.Command(PYTHON, {
      args: ["-c", script],
      cwd: join(ROOT, "hosts", "python"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", PYTHONDONTWRITEBYTECODE: "1" },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(cases)));
    await writer.close();
    const output = await child.output();
    strictEqual(output.code, 0, new TextDecoder().decode(output.stderr));
    const python: string[] = JSON.parse(new TextDecoder().decode(output.stdout));
    strictEqual(python.length, cases.length);
    cases.forEach((input, i) => strictEqual(python[i], ferryHome(input), JSON.stringify(input)));
  },
});

Deno.test({
  name: "ferry_host: against a real bridge it starts itself, publishes and the tracker has the versions and bytes",
  ignore: !HAS_PYTHON,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await hostFixture();
    const output = join(fixture.work, "published.json");
    const live = await run(PYTHON, ["-m", "unittest", "-v", ...LIVE], {
      env: {
        ...fixture.env,
        FERRY_TEST_LIVE: "1",
        FERRY_TEST_WORK: fixture.work,
        FERRY_TEST_OUTPUT: output,
      },
      cwd: join(ROOT, "hosts", "python"),
    });
    ok(live.code === 0, `${live.stderr}\n${live.stdout}`);
    ok(!/skipped/i.test(live.stderr), live.stderr);
    const published = JSON.parse(await readFile(output, "utf8"));

    const frames = new Map(
      Object.entries(published.sequence.files as Record<string, string>).map(([k, v]) => [Number(k), v]),
    );
    strictEqual(frames.size, 6);
    const sequence = await publishedVersion(fixture.session, published.sequence.versionId);
    strictEqual(sequence.version.is_published, true);
    strictEqual(sequence.version.asset.name, "beauty");
    strictEqual(sequence.version.task_id, fixture.made.task.id);
    strictEqual(sequence.version.comment, "from python");
    await checkSequence(fixture, published.sequence.versionId, frames, { name: "png" });

    const cli = await publishedVersion(fixture.session, published.cli.versionId);
    strictEqual(cli.version.asset.name, "chair");
    strictEqual(cli.version.asset.type.short, "geo");
    await checkFile(fixture, published.cli.versionId, published.cli.path, { name: "glb" });

    // The cancelled request, published again, is version 2 of its asset (version 1 is the job before it).
    const again = await publishedVersion(fixture.session, published.cancel.again);
    strictEqual(again.version.version, 2);
    strictEqual(again.version.is_published, true);
    const versions = (await fixture.session.query(
      `select version, is_published from AssetVersion where asset.name is "bigfile" order by version`,
    )).data;
    strictEqual(JSON.stringify(versions.map((v) => [v.version, v.is_published])), "[[1,true],[2,true]]");

    // The job whose bridge was killed mid-upload: finished by the next bridge, one published version, intact bytes.
    const killed = (await fixture.session.query(
      `select id, version, is_published from AssetVersion where asset.name is "killed"`,
    )).data;
    strictEqual(
      JSON.stringify(killed.map((v) => [v.id, v.version, v.is_published])),
      JSON.stringify([[published.killed.versionId, 1, true]]),
    );
    await checkFile(fixture, published.killed.versionId, published.killed.path, { name: "bin" });
  },
});
