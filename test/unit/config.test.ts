// config.ts: the one default that needs the network, the deployer's public address for sshCidrs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lookupDeployerCidr } from "../../config";
import { SettingsError } from "../../lib/settings";

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
