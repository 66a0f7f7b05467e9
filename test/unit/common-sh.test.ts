import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ReleaseSigner } from "../support/signing";
import { requireTools } from "../support/tools";

const COMMON = path.resolve(__dirname, "../../scripts/lib/common.sh");

/** verify_signature runs gpg, and the test signer makes keys with gpg (and its agent, which gpgconf stops). */
const NO_GPG = requireTools([
  ["gpg", "gnupg"],
  ["gpg-agent", "gnupg"],
  ["gpgconf", "gnupg"],
]);

/** Runs `script` in bash after sourcing common.sh, with "$1"… set to `args`. */
function bash(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync("bash", ["-c", `set -euo pipefail; source "$COMMON_SH"; ${script}`, "bash", ...args], {
    encoding: "utf8",
    env: { ...process.env, COMMON_SH: COMMON, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const digest = (algorithm: string, content: string) => createHash(algorithm).update(content).digest("hex");

void describe("scripts/lib/common.sh", () => {
  let dir = "";
  let counter = 0;
  const file = (content: string) => {
    const p = path.join(dir, `f-${++counter}`);
    writeFileSync(p, content);
    return p;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "amq-common-"));
  });
  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void describe("apt_install", () => {
    void it("serializes the host's apt runs on one lock and tries the package lists again when they fail", () => {
      // A stand-in apt-get on PATH: logs each call's start and end (1 s apart); the first `update` fails.
      const bin = path.join(dir, "apt-bin");
      mkdirSync(bin, { recursive: true });
      const log = path.join(dir, "apt.log");
      const failedOnce = path.join(dir, "apt-failed-once");
      writeFileSync(
        path.join(bin, "apt-get"),
        "#!/usr/bin/env bash\n" +
          'cmd=""; for a in "$@"; do case "$a" in update|install) cmd=$a;; esac; done\n' +
          'echo "start $cmd $$" >>"$APT_LOG"; sleep 1; echo "end $cmd $$" >>"$APT_LOG"\n' +
          'if [[ $cmd == update && ! -e "$FAILED_ONCE" ]]; then touch "$FAILED_ONCE"; exit 100; fi\n',
      );
      chmodSync(path.join(bin, "apt-get"), 0o755);
      const r = bash("apt_install one & apt_install two & wait -n; wait -n", [], {
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        APT_LOG: log,
        FAILED_ONCE: failedOnce,
        APT_LOCK: path.join(dir, "apt.lock"),
        APT_RETRY_SECONDS: "0",
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /apt-get update failed \(try 1 of 3\)/);
      const lines = readFileSync(log, "utf8").trim().split("\n");
      // Never two calls at once: every start is followed by its own end.
      for (let i = 0; i < lines.length; i += 2) {
        const [start, end] = [lines[i] ?? "", lines[i + 1] ?? ""];
        assert.equal(end, start.replace(/^start/, "end"), lines.join("\n"));
      }
      assert.deepEqual(
        lines.filter((l) => l.startsWith("start")).map((l) => l.split(" ")[1]),
        ["update", "update", "install", "update", "install"],
      );
    });
  });

  void describe("retry_every", () => {
    void it("tries again until the command succeeds, logging each failure", () => {
      const marker = path.join(dir, "retry-count");
      const r = bash(
        `attempt() { n=$(( $(cat "$1" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$1"; ((n >= 3)); }; retry_every 30 0 "the try" attempt "$1"`,
        [marker],
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(marker, "utf8").trim(), "3");
      assert.equal((r.stdout.match(/the try failed; trying again in 0 s/g) ?? []).length, 2);
    });

    void it("gives up after its bound", () => {
      const r = bash("retry_every 1 1 'the try' false || echo gave-up");
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /gave-up$/m);
    });
  });

  void describe("slave_caught_up", () => {
    // As a 5.16.8 slave logged them in the cluster-in-a-box (journal, -o cat).
    const attaching = [
      " INFO | Using the pure java LevelDB implementation.",
      " INFO | Attaching to master: tcp://10.88.0.11:61619",
      " INFO | Slave started",
      " INFO | Slave requested: 0000000000005ef7.index/000005.sst",
      " INFO | Attaching... Downloaded 26.70/26.70 kb and 6/6 files",
    ];
    const caughtUp = (lines: string[]) => bash('slave_caught_up <<<"$1"', [lines.join("\n")]).status === 0;

    void it("waits while the transfer runs, and is satisfied once the slave says Attached", () => {
      assert.equal(caughtUp(attaching), false);
      assert.equal(caughtUp([...attaching, " INFO | Attached"]), true);
    });

    void it("starts over when the broker becomes a slave again (a new master), and knows the older wording", () => {
      assert.equal(
        caughtUp([...attaching, " INFO | Attached", " INFO | Slave stopped", " INFO | Slave started"]),
        false,
      );
      assert.equal(caughtUp([" INFO | Slave started", " INFO | Slave has now caught up"]), true);
      assert.equal(caughtUp([]), false);
    });
  });

  void describe("require_inputs", () => {
    void it("passes when every named input is set, an empty one included", () => {
      const r = bash("require_inputs A B && echo ok", [], { A: "1", B: "" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "ok\n");
    });

    void it("stops before anything else, naming every missing input", () => {
      const r = bash("require_inputs A B C; echo reached", [], { B: "2" });
      assert.equal(r.status, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /ERROR: missing inputs: A C \(the plan must give them\)/);
    });
  });

  void describe("verify_signature", { skip: NO_GPG }, () => {
    let manager: ReleaseSigner;
    let other: ReleaseSigner;
    let keys = "";
    before(() => {
      manager = ReleaseSigner.create(path.join(dir, "gpg-manager"), "unit release manager");
      other = ReleaseSigner.create(path.join(dir, "gpg-other"), "unit mirror");
      keys = file(manager.publicKey() + other.publicKey());
    });
    after(() => {
      manager?.close();
      other?.close();
    });
    const signed = (by: ReleaseSigner, content: string) => {
      const f = file(content);
      by.sign(f);
      return f;
    };

    void it("accepts a good signature by a pinned key, and says whose", () => {
      const f = signed(manager, "release bytes");
      const r = bash('verify_signature "$1" "$2" "$3" release.tar.gz', [
        f,
        keys,
        `AAAA,${manager.fingerprint}`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`release\\.tar\\.gz: signature by ${manager.fingerprint} verified`));
    });

    void it("refuses a good signature by a key that is not pinned, though the KEYS file lists it", () => {
      const f = signed(other, "tampered bytes");
      const r = bash('verify_signature "$1" "$2" "$3" release.tar.gz', [f, keys, manager.fingerprint]);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `release\\.tar\\.gz is signed by key ${other.fingerprint}, which is not a pinned release key ` +
            `\\(${manager.fingerprint}\\)\\. Nothing was installed\\.`,
        ),
      );
    });

    void it("refuses a file that changed after it was signed", () => {
      const f = signed(manager, "release bytes");
      writeFileSync(f, "release bytes, altered");
      const r = bash('verify_signature "$1" "$2" "$3" release.tar.gz', [f, keys, manager.fingerprint]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /no good signature of release\.tar\.gz in f-\d+\.asc\. Nothing was installed\./);
    });
  });

  void describe("checksum_from_file", () => {
    const hex = digest("sha512", "apache-activemq-5.16.8-bin.tar.gz contents");
    const checksum = (content: string) => {
      const r = bash('checksum_from_file "$1"', [file(content)]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };

    void it('reads the "HEX  name" layout (sha512sum)', () => {
      assert.equal(checksum(`${hex}  apache-activemq-5.16.8-bin.tar.gz\n`), hex);
      assert.equal(checksum(`${hex} *apache-activemq-5.16.8-bin.tar.gz\n`), hex);
    });

    void it("reads a bare digest, with or without a newline, and with CRLF", () => {
      assert.equal(checksum(`${hex}\n`), hex);
      assert.equal(checksum(hex), hex);
      assert.equal(checksum(`${hex}\r\n`), hex);
    });

    void it("reads gpg --print-md's layout: name, colon, upper-case groups over several lines", () => {
      const groups = hex.toUpperCase().match(/.{8}/g) as string[];
      const name = "apache-zookeeper-3.8.6-bin.tar.gz";
      const indent = " ".repeat(name.length + 2);
      const lines = [0, 6, 12].map((start) => groups.slice(start, start + 6).join(" "));
      const gpg = `${name}: ${lines[0]}\n${indent}${lines[1]}\n${indent}${lines[2]}\n`;
      assert.notEqual(gpg.toLowerCase().replace(/[^0-9a-f]/g, ""), hex, "the layout must need parsing");
      assert.equal(checksum(gpg), hex);
    });

    void it("reads a SHA-1 file too", () => {
      const sha1 = digest("sha1", "a jar");
      assert.equal(checksum(`${sha1}  failureaccess-1.0.1.jar\n`), sha1);
    });
  });

  void describe("verify_digest", () => {
    const content = "tarball bytes\n";
    void it("passes silently when the digest matches", () => {
      const r = bash('verify_digest sha512 "$1" "$2" "$3"', [
        file(content),
        digest("sha512", content),
        "a.tar.gz",
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout + r.stderr, "");
    });

    void it("fails on a mismatch, naming the file and both digests", () => {
      const wrong = digest("sha512", "something else");
      const r = bash('verify_digest sha512 "$1" "$2" "$3"; echo survived', [
        file(content),
        wrong,
        "apache-activemq-5.16.8-bin.tar.gz",
      ]);
      assert.equal(r.status, 1);
      assert.ok(!r.stdout.includes("survived"), "execution went on after the mismatch");
      assert.match(r.stderr, /ERROR: checksum mismatch for apache-activemq-5\.16\.8-bin\.tar\.gz/);
      assert.ok(r.stderr.includes(wrong), "expected digest not shown");
      assert.ok(r.stderr.includes(digest("sha512", content)), "actual digest not shown");
    });

    void it("checks SHA-1 the same way", () => {
      const f = file(content);
      assert.equal(bash('verify_digest sha1 "$1" "$2" x', [f, digest("sha1", content)]).status, 0);
      assert.equal(bash('verify_digest sha1 "$1" "$2" x', [f, digest("sha1", "other")]).status, 1);
    });
  });

  void describe("apply_manifest", () => {
    const user = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
    const group = execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();
    let staged = "";
    let root = "";
    let a = "";
    let b = "";

    /** Runs apply_manifest; returns CHANGED_FILES and whether `changed` matches each probe pattern. */
    function apply(probes: string[] = []): { changed: string[]; matches: boolean[] } {
      const r = bash(
        'apply_manifest; printf "%s\\n" "${#CHANGED_FILES[@]}" "${CHANGED_FILES[@]}"; ' +
          'for p in "$@"; do if changed "$p"; then echo yes; else echo no; fi; done',
        probes,
        { STEP_FILES: staged, STEP_ID: "test-step" },
      );
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split("\n").filter((l) => !l.startsWith("[test-step] "));
      const count = Number(lines[0]);
      return {
        changed: lines.slice(1, 1 + count),
        matches: lines.slice(1 + count, 1 + count + probes.length).map((l) => l === "yes"),
      };
    }

    before(() => {
      staged = path.join(dir, "staged");
      root = path.join(dir, "root");
      mkdirSync(staged);
      a = path.join(root, "etc/app/a.conf");
      b = path.join(root, "var/lib/app/deep/b.properties");
      writeFileSync(path.join(staged, "0"), "alpha=1\n");
      writeFileSync(path.join(staged, "1"), "beta=2\nwith spaces and 'quotes'\n");
      writeFileSync(
        path.join(staged, "MANIFEST"),
        `0\t${a}\t${user}\t${group}\t0640\n1\t${b}\t${user}\t${group}\t0640\n`,
      );
    });

    void it("installs every file with its content and mode, and reports them changed", () => {
      const first = apply();
      assert.deepStrictEqual(first.changed, [a, b]);
      assert.equal(readFileSync(a, "utf8"), "alpha=1\n");
      assert.equal(readFileSync(b, "utf8"), "beta=2\nwith spaces and 'quotes'\n");
      for (const p of [a, b]) {
        const st = statSync(p);
        assert.equal(st.mode & 0o777, 0o640, p);
        assert.equal(st.uid, process.getuid?.());
      }
      assert.deepStrictEqual(
        readdirSync(path.dirname(a)).filter((n) => n.endsWith(".amq-new")),
        [],
        "a staging file was left behind",
      );
    });

    void it("changes nothing on a second run", () => {
      assert.deepStrictEqual(apply().changed, []);
    });

    void it("rewrites only the file whose content changed, and `changed` matches it", () => {
      writeFileSync(path.join(staged, "1"), "beta=3\n");
      const r = apply(["*/b.properties", "*/a.conf", `${root}/*`]);
      assert.deepStrictEqual(r.changed, [b]);
      assert.deepStrictEqual(r.matches, [true, false, true]);
      assert.equal(readFileSync(b, "utf8"), "beta=3\n");
    });

    void it("restores a mode that drifted", () => {
      chmodSync(a, 0o600);
      assert.deepStrictEqual(apply().changed, [a]);
      assert.equal(statSync(a).mode & 0o777, 0o640);
      assert.deepStrictEqual(apply().changed, []);
    });

    void it("leaves the mode of an existing parent directory alone", () => {
      const own = path.join(dir, "own-parent");
      const files = path.join(own, "staged");
      const secure = path.join(own, "etc/secure");
      mkdirSync(files, { recursive: true });
      mkdirSync(secure, { recursive: true });
      chmodSync(secure, 0o750);
      writeFileSync(path.join(files, "0"), "token=x\n");
      writeFileSync(path.join(files, "MANIFEST"), `0\t${secure}/creds\t${user}\t${group}\t0640\n`);
      const r = bash("apply_manifest", [], { STEP_FILES: files });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(path.join(secure, "creds"), "utf8"), "token=x\n");
      assert.equal((statSync(secure).mode & 0o777).toString(8), "750");
    });

    void it("reinstalls a file that was removed", () => {
      rmSync(b);
      assert.deepStrictEqual(apply().changed, [b]);
      assert.ok(existsSync(b));
    });
  });
});
