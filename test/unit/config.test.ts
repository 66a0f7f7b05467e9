// config.ts: the one default that needs the network, the deployer's public address for sshCidrs; and the day-2
// check, which comes before it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, lookupDeployerCidr } from "../../config";
import { deployedSettingsRecord } from "../../lib/dayTwo";
import { parseSettings, SettingsError } from "../../lib/settings";
import { runStack } from "../support/mocks";

describe("config lookupDeployerCidr", () => {
  it("turns the looked-up address into a /32", async () => {
    const asked: string[] = [];
    const cidr = await lookupDeployerCidr(async (url) => {
      asked.push(url);
      return "198.51.100.23\n";
    });
    assert.equal(cidr.text, "198.51.100.23/32");
    assert.deepEqual(asked, ["https://checkip.amazonaws.com"], "looked up once");
  });

  it("asks for sshCidrs, naming the setting, when the lookup fails", async () => {
    await assert.rejects(
      lookupDeployerCidr(async () => {
        throw new Error("getaddrinfo ENOTFOUND");
      }),
      (e: unknown) =>
        e instanceof SettingsError &&
        /^sshCidrs: not set, and looking up/.test(e.problems[0] ?? "") &&
        e.message.includes("ENOTFOUND") &&
        e.message.includes("pulumi config set --path 'sshCidrs[0]'"),
    );
  });

  it("refuses an answer that is not an IPv4 address instead of opening SSH to it", async () => {
    for (const reply of ["<html>captive portal</html>", "010.1.2.3", "2001:db8::1", ""]) {
      await assert.rejects(
        lookupDeployerCidr(async () => reply),
        (e: unknown) => e instanceof SettingsError && e.message.includes("not an IPv4 address"),
        reply,
      );
    }
  });
});

describe("config loadConfig on a running stack", () => {
  const digests = { activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128) };

  it("refuses a change the cluster cannot take before it looks anything up or creates anything", async (t) => {
    const deployed = deployedSettingsRecord(parseSettings(digests), { clusterName: "test" });
    // runStack installs the mocks, the StackReference answering with this previous deployment's outputs.
    const mocked = await runStack(digests, undefined, {
      previousOutputs: { haMode: "replicated-leveldb", deployedSettings: deployed },
    });
    const before = mocked.resources.length;
    // sshCidrs unset: a check after the lookup would ask checkip first.
    pulumi.runtime.setAllConfig(
      {
        "activemq-ha:activemqSha512": digests.activemqSha512,
        "activemq-ha:zookeeperSha512": digests.zookeeperSha512,
        "activemq-ha:haMode": "shared-kahadb",
      },
      [],
    );
    const fetched = t.mock.method(globalThis, "fetch", async () => new Response("198.51.100.23\n"));
    await assert.rejects(
      loadConfig(),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.problems.length === 1 &&
        (e.problems[0] ?? "").startsWith(
          'haMode: deployed "replicated-leveldb", got "shared-kahadb"; allowed: ',
        ),
    );
    assert.equal(fetched.mock.callCount(), 0, "no address lookup");
    assert.deepEqual(
      mocked.resources.slice(before).map((r) => r.type),
      ["pulumi:pulumi:StackReference"],
    );
  });
});
