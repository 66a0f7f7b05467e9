import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { ClusterFacts } from "../../lib/facts";
import { renderPayload, REMOTE_COMMAND, sha256, shellQuote } from "../../lib/payload";
import { buildPlan, PlanStep } from "../../lib/plan";
import { parseSettings } from "../../lib/settings";
import { factsFor, SECRETS, TLS_KEYSTORE_PASSWORD, tlsKey } from "./helpers";

const SCRIPTS = path.resolve(__dirname, "../../scripts");
const PLAN = buildPlan(parseSettings({}));
const FACTS = factsFor(3);

function step(id: string): PlanStep {
  const found = PLAN.find((s) => s.id === id);
  assert.ok(found, `no step ${id} in the plan`);
  return found;
}

interface DecodedPayload {
  /** Heredoc target → decoded content, in payload order. */
  readonly blocks: [string, string][];
  /** The line that runs the step's script. */
  readonly runLine: string;
}

/** Reads the payload the way a reviewer would: every base64 heredoc, decoded, and the command that runs the step. */
function decode(payload: string): DecodedPayload {
  const blocks: [string, string][] = [];
  for (const m of payload.matchAll(
    /^base64 -d > (\S+) <<'PAYLOAD_EOF'\n([A-Za-z0-9+/=\n]*?)\nPAYLOAD_EOF$/gm,
  )) {
    blocks.push([
      m[1] as string,
      Buffer.from((m[2] as string).replace(/\n/g, ""), "base64").toString("utf8"),
    ]);
  }
  const lines = payload.trimEnd().split("\n");
  return { blocks, runLine: lines.find((l) => l.startsWith("STEP_ID=")) as string };
}

/** The inputs as the payload assigns them (none of the plan's values holds a quote). */
const assignments = (inputs: Readonly<Record<string, string>>) =>
  Object.entries(inputs)
    .map(([name, value]) => ` ${name}='${value}'`)
    .join("");

void describe("lib/payload", () => {
  void it("shellQuote survives a shell for any string (property)", () => {
    // Units the shell treats specially, mixed with any other character but NUL (which no argument can hold).
    const unit = fc.oneof(
      fc.constantFrom(
        "'",
        '"',
        "$",
        "`",
        "\\",
        "\n",
        "\t",
        " ",
        "!",
        "*",
        "?",
        "~",
        "#",
        ";",
        "&",
        "|",
        "<",
        ">",
        "(",
        ")",
        "{",
        "}",
        "$(",
        "${",
        "'\\''",
        "\r",
      ),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => c !== "\0"),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (value) => {
        const printed = execFileSync("bash", ["-c", `bash -c 'printf %s "$1"' _ ${shellQuote(value)}`], {
          encoding: "utf8",
        });
        assert.equal(printed, value);
      }),
      { numRuns: 100 },
    );
  });

  void it("shellQuote quotes a plain word in single quotes and escapes a single quote the POSIX way", () => {
    assert.equal(shellQuote("abc"), "'abc'");
    assert.equal(shellQuote(""), "''");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
  });

  void it("runs payloads through bash on standard input as root", () => {
    assert.equal(REMOTE_COMMAND, "sudo bash -s");
  });

  void it("refuses an input name the shell would give a meaning to, or that is not a plain name", () => {
    for (const name of ["PATH", "STEP_ID", "lower", "A-B", "1A"]) {
      const s: PlanStep = { ...step("n3-host-ready"), input: () => ({ inputs: { [name]: "x" }, files: [] }) };
      assert.throws(() => renderPayload(s, FACTS), new RegExp(`"${name}" cannot name a step input`));
    }
  });

  void it("is deterministic: the same step and equal facts give the same payload", () => {
    for (const s of PLAN) {
      const copy: ClusterFacts = JSON.parse(JSON.stringify(FACTS));
      const a = renderPayload(s, FACTS);
      assert.equal(renderPayload(s, copy), a, s.id);
      assert.equal(sha256(renderPayload(s, copy)), sha256(a));
    }
  });

  void it("changes when a fact the step uses changes", () => {
    const s = step("n1-zookeeper-configure");
    const moved = factsFor(3);
    const other: ClusterFacts = {
      ...moved,
      nodes: moved.nodes.map((n) => (n.index === 3 ? { ...n, privateIp: "10.0.128.99" } : n)),
    };
    assert.notEqual(renderPayload(s, other), renderPayload(s, FACTS));
  });

  void it("never carries a secret in clear text, in any step", () => {
    for (const s of PLAN) {
      const payload = renderPayload(s, FACTS);
      const tlsSecrets = {
        keystorePassword: TLS_KEYSTORE_PASSWORD,
        ...Object.fromEntries(
          [1, 2, 3].map((n) => [`node ${n}'s TLS key`, tlsKey(n).split("\n")[1] as string]),
        ),
      };
      for (const [name, secret] of Object.entries({ ...SECRETS, ...tlsSecrets })) {
        assert.ok(!payload.includes(secret), `${s.id} carries ${name} in clear text`);
      }
    }
  });

  for (const id of ["n2-activemq-configure", "n1-zookeeper-configure", "n3-host-ready"]) {
    void it(`decodes to the step's script, the library, its files and manifest: ${id}`, () => {
      const s = step(id);
      const input = s.input(FACTS);
      const { blocks, runLine } = decode(renderPayload(s, FACTS));
      assert.deepStrictEqual(
        blocks.map(([target]) => target),
        [
          '"$work/lib/common.sh"',
          '"$work/step.sh"',
          ...input.files.map((_, i) => `"$work/files/${i}"`),
          '"$work/files/MANIFEST"',
        ],
      );
      const decoded = new Map(blocks);
      assert.equal(
        decoded.get('"$work/lib/common.sh"'),
        readFileSync(path.join(SCRIPTS, "lib/common.sh"), "utf8"),
      );
      assert.equal(decoded.get('"$work/step.sh"'), readFileSync(path.join(SCRIPTS, s.script), "utf8"));
      for (const [i, file] of input.files.entries()) {
        assert.equal(decoded.get(`"$work/files/${i}"`), file.content, file.path);
      }
      const manifest = input.files
        .map((f, i) => `${i}\t${f.path}\t${f.owner}\t${f.group}\t${f.mode}\n`)
        .join("");
      assert.equal(decoded.get('"$work/files/MANIFEST"'), manifest);
      assert.equal(
        runLine,
        `STEP_ID='${id}' STEP_FILES="$work/files"${assignments(input.inputs)} ` +
          `timeout --kill-after=30 ${s.timeoutMinutes * 60} bash "$work/step.sh" </dev/null || rc=$?`,
      );
    });
  }

  void it("carries the secrets only inside the base64 of the credential files", () => {
    const s = step("n2-activemq-configure");
    const files = new Map(s.input(FACTS).files.map((f) => [f.path, f.content]));
    const decoded = new Map(decode(renderPayload(s, FACTS)).blocks);
    const manifest = decoded.get('"$work/files/MANIFEST"') as string;
    const indexOf = (p: string) =>
      manifest
        .split("\n")
        .find((l) => l.split("\t")[1] === p)
        ?.split("\t")[0];
    const credentials = decoded.get(
      `"$work/files/${indexOf("/etc/activemq/credentials.properties")}"`,
    ) as string;
    const realm = decoded.get(`"$work/files/${indexOf("/etc/activemq/jetty-realm.properties")}"`) as string;
    assert.ok(credentials.includes(`activemq.password=${SECRETS.brokerPassword}\n`));
    assert.ok(credentials.includes(`activemq.replicationToken=${SECRETS.replicationToken}\n`));
    // The console realm holds Jetty's MD5 of the password, never the password.
    assert.ok(
      realm.includes(
        `: MD5:${createHash("md5").update(SECRETS.consolePassword, "latin1").digest("hex")}, admin\n`,
      ),
      realm,
    );
    assert.ok(!realm.includes(SECRETS.consolePassword));
    assert.equal(credentials, files.get("/etc/activemq/credentials.properties"));
    assert.ok(credentials.includes(`activemq.keystorePassword=${TLS_KEYSTORE_PASSWORD}\n`));
    // Node 2's own TLS key and nobody else's, readable by root and the broker's group only.
    const key = s.input(FACTS).files.find((f) => f.path === "/etc/activemq/tls/broker.key");
    assert.deepEqual(key && [key.content, key.owner, key.group, key.mode], [
      tlsKey(2),
      "root",
      "activemq",
      "0640",
    ]);
    for (const other of [1, 3]) {
      assert.ok(
        ![...files.values()].some((c) => c.includes(tlsKey(other))),
        `node ${other}'s key is sent to node 2`,
      );
    }
  });

  void describe("run by bash, with a stand-in for the step script", () => {
    let sandbox = "";

    before(() => {
      sandbox = mkdtempSync(path.join(tmpdir(), "amq-payload-"));
      const bin = path.join(sandbox, "bin");
      mkdirSync(bin);
      // The payload's last line runs `bash "$work/step.sh" ARGS...`: this `bash`, first on PATH, copies what the
      // payload extracted and records the arguments instead of running the step (which needs root).
      writeFileSync(
        path.join(bin, "bash"),
        [
          "#!/bin/sh",
          "set -e",
          // MODE makes the stand-in hang or fail instead, for the checks of the payload's bounds and reports.
          'if [ "${MODE:-}" = hang ]; then exec sleep 60; fi',
          'if [ "${MODE:-}" = fail ]; then echo "stand-in step failed" >&2; exit 3; fi',
          'work=$(dirname "$1")',
          'printf %s "$work" > "$OUT/workdir"',
          'cp -R "$work/." "$OUT/extracted"',
          'printf %s "$STEP_ID" > "$OUT/step-id"',
          'printf %s "$STEP_FILES" > "$OUT/step-files"',
          // Every input the step got, as NAME=value lines (the plan's names are all upper case).
          'env | grep -E "^[A-Z][A-Z0-9_]*=" | grep -vE "^(OUT|MODE|PATH|HOME|PWD|SHLVL|USER|LANG|TERM|STEP_ID|STEP_FILES)=" | sort > "$OUT/inputs"',
          "",
        ].join("\n"),
      );
      chmodSync(path.join(bin, "bash"), 0o755);
    });

    after(() => {
      if (sandbox) {
        rmSync(sandbox, { recursive: true, force: true });
      }
    });

    const runAs = (s: PlanStep, mode: string) =>
      spawnSync("/bin/bash", ["-s"], {
        input: renderPayload(s, FACTS),
        encoding: "utf8",
        env: { ...process.env, PATH: `${path.join(sandbox, "bin")}:${process.env.PATH ?? ""}`, MODE: mode },
      });

    void it("ends a step that hangs at its time limit, naming the step, the limit and the host", () => {
      const started = Date.now();
      const run = runAs({ ...step("n3-host-ready"), timeoutMinutes: 0.05 }, "hang");
      assert.equal(run.status, 124);
      assert.ok(Date.now() - started < 30_000, "bounded by the step's 3 s limit, not the 60 s sleep");
      assert.match(run.stderr, /^\[n3-host-ready\] ERROR: gave up after 0\.05 minutes$/m);
      assert.match(
        run.stderr,
        new RegExp(`^\\[n3-host-ready\\] FAILED on ${hostname()} \\(exit 124\\)`, "m"),
      );
    });

    void it("passes a failing step's exit status and output on, naming the step and the host", () => {
      const run = runAs(step("n2-zookeeper-configure"), "fail");
      assert.equal(run.status, 3);
      assert.match(run.stderr, /^stand-in step failed$/m);
      assert.match(
        run.stderr,
        new RegExp(`^\\[n2-zookeeper-configure\\] FAILED on ${hostname()} \\(exit 3\\)`, "m"),
      );
      assert.doesNotMatch(run.stderr, /gave up/);
    });

    for (const id of ["n2-activemq-configure", "n3-host-ready"]) {
      void it(`extracts exactly the step's files and hands over its named inputs: ${id}`, () => {
        const s = step(id);
        const input = s.input(FACTS);
        const out = path.join(sandbox, id);
        mkdirSync(path.join(out, "extracted"), { recursive: true });
        const run = spawnSync("/bin/bash", ["-s"], {
          input: renderPayload(s, FACTS),
          encoding: "utf8",
          env: { ...process.env, PATH: `${path.join(sandbox, "bin")}:${process.env.PATH ?? ""}`, OUT: out },
        });
        assert.equal(run.status, 0, run.stderr);
        const extracted = path.join(out, "extracted");
        const read = (p: string) => readFileSync(path.join(extracted, p), "utf8");
        assert.equal(read("step.sh"), readFileSync(path.join(SCRIPTS, s.script), "utf8"));
        assert.equal(read("lib/common.sh"), readFileSync(path.join(SCRIPTS, "lib/common.sh"), "utf8"));
        for (const [i, file] of input.files.entries()) {
          assert.equal(read(`files/${i}`), file.content, file.path);
        }
        assert.ok(!existsSync(path.join(extracted, `files/${input.files.length}`)), "an extra file");
        assert.equal(
          read("files/MANIFEST"),
          input.files.map((f, i) => [i, f.path, f.owner, f.group, f.mode].join("\t") + "\n").join(""),
        );
        assert.equal(readFileSync(path.join(out, "step-id"), "utf8"), id);
        const workdir = readFileSync(path.join(out, "workdir"), "utf8");
        assert.equal(readFileSync(path.join(out, "step-files"), "utf8"), `${workdir}/files`);
        const given = readFileSync(path.join(out, "inputs"), "utf8");
        for (const [name, value] of Object.entries(input.inputs)) {
          assert.ok(
            given.split("\n").includes(`${name}=${value}`),
            `${id} receives ${name}=${value}:\n${given}`,
          );
        }
        assert.ok(!existsSync(workdir), `the payload left ${workdir} behind`);
      });
    }
  });
});
