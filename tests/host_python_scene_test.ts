/**
 * ferry's Python client and scene validation: its unit tests of failed validations and repairs, then its live
 * test against a REAL bridge the client starts (`deno task bridge` in this checkout): a scene whose frame range and
 * fps differ from the shot's fails with repairs, the repairs are applied, the second publish succeeds; the CLI prints
 * the failed validations with their repairs. What was published is checked through @ftrack/api.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { hasCommand, hostFixture, publishedVersion, PYTHON, ROOT, run } from "./_hosts.ts";

const HAS_PYTHON = await hasCommand(PYTHON);
if (!HAS_PYTHON) {
  console.warn(`\n*** SKIPPED: the Python client tests need '${PYTHON}' (apt-get install python3) ***\n`);
}

Deno.test({
  name: "ferry_host.failed_validations() / repairs() / apply_repair(): the unit tests pass with python3",
  ignore: !HAS_PYTHON,
  fn: async () => {
    const env = { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/", PYTHONDONTWRITEBYTECODE: "1" };
    const unit = await run(PYTHON, ["-m", "unittest", "-v", "tests.test_validation"], {
      env,
      cwd: join(ROOT, "hosts", "python"),
    });
    ok(unit.code === 0, unit.stderr);
    strictEqual(Number(/Ran (\d+) tests/.exec(unit.stderr)?.[1] ?? 0), 7, unit.stderr);
  },
});

Deno.test({
  name: "ferry_host: a scene that differs from the shot fails with repairs; repaired, it publishes (real bridge)",
  ignore: !HAS_PYTHON,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await hostFixture();
    const output = join(fixture.work, "published.json");
    const live = await run(PYTHON, ["-m", "unittest", "-v", "tests.test_live_scene"], {
      env: { ...fixture.env, FERRY_TEST_LIVE: "1", FERRY_TEST_WORK: fixture.work, FERRY_TEST_OUTPUT: output },
      cwd: join(ROOT, "hosts", "python"),
    });
    ok(live.code === 0, `${live.stderr}\n${live.stdout}`);
    ok(/Ran 2 tests/.test(live.stderr) && !/skipped/i.test(live.stderr), live.stderr);
    const published = JSON.parse(await readFile(output, "utf8"));
    const { version } = await publishedVersion(fixture.session, published.scene.versionId);
    deepStrictEqual([version.asset.name, version.version, version.is_published], ["layout", 1, true]);
    // The failed job published nothing: the one layout version is the repaired publish's.
    const versions = (await fixture.session.query(`select id from AssetVersion where asset.name is "layout"`)).data;
    strictEqual(versions.length, 1);
  },
});
