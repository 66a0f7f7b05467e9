// lib/ssh.ts: the options that pin a host's key, read back by OpenSSH itself (`ssh -G` prints the configuration
// it would use), and the known_hosts line found by ssh-keygen.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { knownHostsLine, pinnedHostOptions } from "../../lib/ssh";

const scratch = mkdtempSync(path.join(tmpdir(), "ssh-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function effective(options: string[]): Map<string, string> {
  const out = execFileSync("ssh", [...options, "-G", "admin@10.0.0.11"], { encoding: "utf8" });
  return new Map(
    out
      .trim()
      .split("\n")
      .map((line) => {
        const at = line.indexOf(" ");
        return [line.slice(0, at), line.slice(at + 1)] as [string, string];
      }),
  );
}

describe("pinnedHostOptions", () => {
  it("makes OpenSSH refuse unknown keys, read only the given file, and offer only the pinned key's algorithm", () => {
    const file = path.join(scratch, "known_hosts");
    const config = effective(
      pinnedHostOptions({
        knownHostsFile: file,
        hostKey: " ssh-ed25519 AAAAC3Nza key\n",
        connectTimeoutS: 7,
      }),
    );
    assert.equal(config.get("stricthostkeychecking"), "true");
    assert.equal(config.get("batchmode"), "yes");
    assert.equal(config.get("userknownhostsfile"), file);
    assert.equal(config.get("globalknownhostsfile"), "/dev/null");
    assert.equal(config.get("hostkeyalgorithms"), "ssh-ed25519");
    assert.equal(config.get("connecttimeout"), "7");
  });

  it("without a pinned key leaves the algorithms to the known_hosts file", () => {
    const defaults = effective([]).get("hostkeyalgorithms");
    const config = effective(pinnedHostOptions({ knownHostsFile: "/k", connectTimeoutS: 10 }));
    assert.equal(config.get("hostkeyalgorithms"), defaults);
    assert.equal(config.get("userknownhostsfile"), "/k");
  });
});

describe("knownHostsLine", () => {
  it("is found by ssh-keygen for that address only", () => {
    const key = path.join(scratch, "hostkey");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const pub = readFileSync(`${key}.pub`, "utf8");
    const file = path.join(scratch, "pinned");
    writeFileSync(file, knownHostsLine("10.0.0.11", pub));
    const found = execFileSync("ssh-keygen", ["-F", "10.0.0.11", "-f", file], { encoding: "utf8" });
    // The key's base64 (it may hold "+" and "/", so compared as text, not as a pattern).
    assert.ok(found.includes(pub.trim().split(" ")[1] as string), found);
    assert.throws(() => execFileSync("ssh-keygen", ["-F", "10.0.0.12", "-f", file], { stdio: "pipe" }));
  });
});
