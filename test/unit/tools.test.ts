// test/support/tools.ts: what a check that needs the machine does when it is missing. Skipped with one line that
// names the Debian package and its install command; under CI an error instead. And the shellcheck step of
// `npm run check` (scripts/dev/shellcheck-all.sh), which follows the same rule through the helper's command line.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  aptInstall,
  findCommand,
  isCi,
  pathWithout,
  requireFile,
  requireTool,
  requireTools,
} from "../support/tools";

const ROOT = path.resolve(__dirname, "../..");

void describe("test/support/tools.ts", () => {
  let dir = "";
  let bin = "";
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "tools-"));
    bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "present-tool"), "#!/bin/sh\n");
    chmodSync(path.join(bin, "present-tool"), 0o755);
    writeFileSync(path.join(bin, "not-executable"), "data\n");
    chmodSync(path.join(bin, "not-executable"), 0o644);
    writeFileSync(path.join(dir, "schema.xsd"), "<xs:schema/>\n");
  });
  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const local = () => ({ PATH: `${path.join(dir, "empty")}:${bin}` });
  const ci = (value = "true") => ({ ...local(), CI: value });

  void it("CI is on for CI=true, 1 or any other value, off for unset, empty, 0 and false", () => {
    for (const value of ["true", "TRUE", "1", "yes", "github"]) {
      assert.equal(isCi({ CI: value }), true, value);
    }
    for (const value of [undefined, "", " ", "0", "false", "False"]) {
      assert.equal(isCi(value === undefined ? {} : { CI: value }), false, String(value));
    }
  });

  void it("finds a command on PATH only when it is executable; a path only has to exist", () => {
    assert.equal(findCommand("present-tool", local()), path.join(bin, "present-tool"));
    assert.equal(findCommand("not-executable", local()), undefined);
    assert.equal(findCommand("absent-tool", local()), undefined);
    assert.equal(findCommand("present-tool", { PATH: "" }), undefined);
    assert.equal(findCommand(path.join(bin, "not-executable"), {}), path.join(bin, "not-executable"));
    assert.equal(findCommand(path.join(bin, "nothing.jar"), {}), undefined);
  });

  void it("a present tool: false (the check runs), with or without CI", () => {
    assert.equal(requireTool("present-tool", "present-pkg", local()), false);
    assert.equal(requireTool("present-tool", "present-pkg", ci()), false);
    assert.equal(requireTool(path.join(dir, "schema.xsd"), "some-pkg", ci()), false);
  });

  void it("a missing tool: one line with the command, its Debian package and the apt-get command", () => {
    const skip = requireTool("absent-tool", "absent-pkg", local());
    assert.equal(
      skip,
      "absent-tool (Debian package absent-pkg) is not installed: install with: apt-get install -y absent-pkg",
    );
    for (const value of ["", "0", "false"]) {
      assert.equal(requireTool("absent-tool", "absent-pkg", ci(value)), skip, `CI=${value}`);
    }
  });

  void it("under CI a missing tool throws, saying CI runs every check and how to install it", () => {
    assert.throws(
      () => requireTool("absent-tool", "absent-pkg", ci()),
      (e: Error) => {
        assert.equal(
          e.message,
          "CI=true: absent-tool (Debian package absent-pkg) is not installed, and CI must run every check " +
            "instead of skipping it. Install with: apt-get install -y absent-pkg",
        );
        return true;
      },
    );
    assert.throws(() => requireTool("absent-tool", "absent-pkg", ci("1")), /^Error: CI=1: absent-tool/);
  });

  void it("several tools: only the missing ones named, in one line, each package installed once", () => {
    const tools = [
      ["gpg-x", "gnupg-x"],
      ["present-tool", "present-pkg"],
      ["gpgconf-x", "gnupg-x"],
      [path.join(dir, "absent.jar"), "jar-pkg"],
    ] as const;
    const skip = requireTools(tools, local());
    assert.equal(
      skip,
      `gpg-x (Debian package gnupg-x), gpgconf-x (Debian package gnupg-x), ${path.join(dir, "absent.jar")} ` +
        "(Debian package jar-pkg) are not installed: install with: apt-get install -y gnupg-x jar-pkg",
    );
    assert.ok(typeof skip === "string" && !skip.includes("\n"), "one line");
    assert.throws(() => requireTools(tools, ci()), /gpg-x .*gpgconf-x .*apt-get install -y gnupg-x jar-pkg/);
    assert.equal(requireTools([["present-tool", "present-pkg"]], ci()), false);
    assert.equal(aptInstall(["a", "b", "a"]), "apt-get install -y a b");
  });

  void it("a file outside the repository: runs when present; else skipped with where and how, and fails under CI", () => {
    const schema = path.join(dir, "schema.xsd");
    const gone = path.join(dir, "gone.xsd");
    assert.equal(requireFile(schema, "the schema", "set SCHEMA to a copy", ci()), false);
    assert.equal(
      requireFile(gone, "the schema", "set SCHEMA to a copy", local()),
      `the schema is not at ${gone}: set SCHEMA to a copy`,
    );
    assert.throws(
      () => requireFile(gone, "the schema", "set SCHEMA to a copy", ci()),
      new RegExp(
        `^Error: CI=true: the schema is not at ${gone}, and CI must run every check .*Set SCHEMA to a copy$`,
      ),
    );
  });

  void it("pathWithout: the same commands as PATH, less the hidden ones", () => {
    const hidden = pathWithout(["present-tool"], local());
    try {
      assert.equal(findCommand("present-tool", { PATH: hidden.path }), undefined);
      assert.equal(findCommand("not-executable", { PATH: hidden.path }), undefined);
      const bash = pathWithout(["present-tool"]);
      try {
        assert.ok(findCommand("bash", { PATH: bash.path }), "bash is kept");
        assert.ok(findCommand("node", { PATH: bash.path }), "node is kept");
      } finally {
        bash.remove();
      }
    } finally {
      hidden.remove();
    }
  });

  void describe("the command line, and scripts/dev/shellcheck-all.sh", () => {
    let noShellcheck: { path: string; remove: () => void };
    before(() => {
      noShellcheck = pathWithout(["shellcheck"]);
    });
    after(() => noShellcheck?.remove());

    const cli = (args: string[], env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test/support/tools.ts"), ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, CI: "", ...env },
      });

    void it("exit 0 and silent when present, 3 and the skip line when missing, 1 and the message under CI", () => {
      const present = cli(["present-tool", "present-pkg"], local());
      assert.deepEqual([present.status, present.stdout, present.stderr], [0, "", ""]);
      const skipped = cli(["absent-tool", "absent-pkg", "present-tool", "present-pkg"], local());
      assert.equal(skipped.status, 3, skipped.stderr);
      assert.equal(
        skipped.stdout,
        "absent-tool (Debian package absent-pkg) is not installed: install with: apt-get install -y absent-pkg\n",
      );
      const failed = cli(["absent-tool", "absent-pkg"], ci());
      assert.equal(failed.status, 1);
      assert.equal(failed.stdout, "");
      assert.match(failed.stderr, /^CI=true: absent-tool .* apt-get install -y absent-pkg\n$/);
      assert.equal(cli(["only-one-arg"], local()).status, 2);
    });

    const shellcheckAll = (env: NodeJS.ProcessEnv) =>
      spawnSync("bash", [path.join(ROOT, "scripts/dev/shellcheck-all.sh")], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: noShellcheck.path, ...env },
      });

    void it("shellcheck missing: the step is skipped with one line saying how to install it", () => {
      const run = shellcheckAll({ CI: "" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(
        run.stdout,
        "shellcheck: SKIPPED: shellcheck (Debian package shellcheck) is not installed: install with: " +
          "apt-get install -y shellcheck\n",
      );
    });

    void it("shellcheck missing under CI: the step fails and says why", () => {
      const run = shellcheckAll({ CI: "true" });
      assert.equal(run.status, 1);
      assert.equal(run.stdout, "");
      assert.match(
        run.stderr,
        /^CI=true: shellcheck \(Debian package shellcheck\) is not installed, and CI must/,
      );
      assert.match(run.stderr, /apt-get install -y shellcheck\nshellcheck: FAILED: see the line above\n$/);
    });
  });
});
