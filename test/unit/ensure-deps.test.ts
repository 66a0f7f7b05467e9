// scripts/dev/ensure-deps.mjs, run before `npm test` and `npm run deploy`: `npm ci` when node_modules is missing,
// unfinished or older than package-lock.json, and nothing at all (not a line) otherwise. Run in a copy of its corner
// of the tree with a stand-in `npm` first on the PATH that logs how it was called and installs like npm ci would.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

const FAKE_NPM = [
  "#!/usr/bin/env bash",
  'printf "%s in %s\\n" "$*" "$PWD" >> "$FAKE_DIR/npm-calls"',
  'if [[ -e "$FAKE_DIR/npm-fails" ]]; then echo "npm ERR! no network" >&2; exit 7; fi',
  'rm -rf node_modules && mkdir -p node_modules && echo "{}" > node_modules/.package-lock.json',
  'echo "added 1 package"',
].join("\n");

void describe("scripts/dev/ensure-deps.mjs", () => {
  let dir = "";
  let project = "";
  let counter = 0;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "ensure-deps-"));
    mkdirSync(path.join(dir, "bin"));
    writeFileSync(path.join(dir, "bin/npm"), `${FAKE_NPM}\n`);
    chmodSync(path.join(dir, "bin/npm"), 0o755);
  });
  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A new project copy: the script, a lock file, and node_modules as `modules` says. */
  function makeProject(modules: "none" | "installed" | "unfinished"): string {
    project = path.join(dir, `project-${++counter}`);
    mkdirSync(path.join(project, "scripts/dev"), { recursive: true });
    copyFileSync(
      path.join(ROOT, "scripts/dev/ensure-deps.mjs"),
      path.join(project, "scripts/dev/ensure-deps.mjs"),
    );
    writeFileSync(path.join(project, "package-lock.json"), "{}\n");
    utimesSync(path.join(project, "package-lock.json"), new Date(1_000_000), new Date(1_000_000));
    if (modules !== "none") {
      mkdirSync(path.join(project, "node_modules"));
    }
    if (modules === "installed") {
      writeFileSync(path.join(project, "node_modules/.package-lock.json"), "{}\n");
      utimesSync(
        path.join(project, "node_modules/.package-lock.json"),
        new Date(2_000_000),
        new Date(2_000_000),
      );
    }
    return project;
  }

  function ensure(cwd = dir) {
    rmSync(path.join(dir, "npm-calls"), { force: true });
    const run = spawnSync(process.execPath, [path.join(project, "scripts/dev/ensure-deps.mjs")], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`, FAKE_DIR: dir },
    });
    const calls = existsSync(path.join(dir, "npm-calls"))
      ? readFileSync(path.join(dir, "npm-calls"), "utf8").trim().split("\n")
      : [];
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls };
  }

  void it("no node_modules (a fresh clone): one line saying why, npm ci in the project, then silence", () => {
    makeProject("none");
    const first = ensure();
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stderr, "ensure-deps: node_modules is missing: running npm ci\n");
    assert.deepEqual(first.calls, [`ci --no-audit --no-fund in ${project}`]);
    assert.equal(first.stdout, "added 1 package\n");
    const second = ensure();
    assert.deepEqual([second.status, second.stdout, second.stderr, second.calls], [0, "", "", []]);
  });

  void it("installed and newer than package-lock.json: nothing run, nothing printed", () => {
    makeProject("installed");
    const run = ensure(path.join(project, "scripts"));
    assert.deepEqual([run.status, run.stdout, run.stderr, run.calls], [0, "", "", []]);
  });

  void it("package-lock.json changed after the install: npm ci again", () => {
    makeProject("installed");
    utimesSync(path.join(project, "package-lock.json"), new Date(3_000_000), new Date(3_000_000));
    const run = ensure();
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, "ensure-deps: package-lock.json is newer than node_modules: running npm ci\n");
    assert.deepEqual(run.calls, [`ci --no-audit --no-fund in ${project}`]);
  });

  void it("node_modules that npm did not finish (no .package-lock.json): npm ci again", () => {
    makeProject("unfinished");
    const run = ensure();
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^ensure-deps: node_modules was not completed by npm .*: running npm ci\n$/);
    assert.equal(run.calls.length, 1);
  });

  void it("npm ci fails: its exit code, and a line saying so", () => {
    makeProject("none");
    writeFileSync(path.join(dir, "npm-fails"), "");
    try {
      const run = ensure();
      assert.equal(run.status, 7);
      assert.match(run.stderr, /npm ERR! no network\nensure-deps: npm ci failed \(exit 7\)\n$/);
    } finally {
      rmSync(path.join(dir, "npm-fails"));
    }
  });

  void it("npm test and npm run check run it first", () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    assert.equal(scripts.pretest, "node scripts/dev/ensure-deps.mjs");
    assert.equal(scripts.precheck, "node scripts/dev/ensure-deps.mjs");
    assert.match(
      readFileSync(path.join(ROOT, "scripts/dev/deploy.sh"), "utf8"),
      /^node scripts\/dev\/ensure-deps\.mjs$/m,
    );
  });
});
