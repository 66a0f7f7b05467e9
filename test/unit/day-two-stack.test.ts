// Day 2 under Pulumi's mocks: the whole program (index.ts) runs twice, as two `pulumi up`s of one stack. The
// second reads the first one's outputs through the StackReference to itself (the mocks answer it with the
// outputs given), and a change the running cluster cannot take is refused before any other resource exists.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { deployedSettingsRecord } from "../../lib/dayTwo";
import { parseSettings, SettingsError } from "../../lib/settings";
import { ofType, Recorded, runStack } from "../support/mocks";

const SSH = "198.51.100.7/32";
/** Set in every run: who may SSH in (no address lookup under the mocks) and the tarballs' digests. */
const BASE = { sshCidrs: SSH, activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128) };
const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** The stack's configuration as `pulumi config set` leaves it: `activemq-ha:<setting>` keys. */
function setStackConfig(raw: Record<string, string>): void {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(raw).map(([key, value]) => [`activemq-ha:${key}`, value])),
    [],
  );
}

const resolve = <T>(value: T) => new Promise<unknown>((done) => pulumi.output(value).apply(done));

interface Update {
  /** What the program registered, in order (the mocks' own reference cluster `amq` left out). */
  readonly registered: Recorded[];
  /** Invokes the program made. */
  readonly calls: string[];
  /** The program's outputs, resolved; `exported` as the program returned them. */
  readonly outputs?: Record<string, unknown>;
  readonly exported?: Record<string, unknown>;
  readonly error?: unknown;
}

/**
 * One `pulumi up` of the program with these settings, on a stack whose previous outputs are `previousOutputs`
 * ({} for a new stack). runStack installs the project's mocks (and deploys its own cluster `amq` from the same
 * settings, which is ignored here); the program then runs under them as the Pulumi CLI would run it.
 */
async function up(raw: Record<string, string>, previousOutputs: Record<string, unknown>): Promise<Update> {
  const settings = { ...BASE, ...raw };
  setStackConfig(settings);
  const mocked = await runStack(settings, [SSH], { previousOutputs });
  const [resourcesBefore, callsBefore] = [mocked.resources.length, mocked.calls.length];
  const { default: program } = await import("../../index");
  let outputs: Record<string, unknown> | undefined;
  let exported: Record<string, unknown> | undefined;
  let error: unknown;
  try {
    exported = await program();
    outputs = Object.fromEntries(
      await Promise.all(Object.entries(exported).map(async ([k, v]) => [k, await resolve(v)] as const)),
    );
  } catch (e) {
    error = e;
  }
  // Let every registration finish.
  await new Promise((done) => setTimeout(done, 50));
  return {
    registered: mocked.resources.slice(resourcesBefore),
    calls: mocked.calls.slice(callsBefore),
    ...(outputs !== undefined ? { outputs, exported } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

const firstDeployments = new Map<string, Promise<Update>>();

/** A first deployment with `before` (once per distinct `before`), then an update to `after`: the update. */
async function change(before: Record<string, string>, after: Record<string, string>): Promise<Update> {
  const key = JSON.stringify(before);
  if (!firstDeployments.has(key)) {
    firstDeployments.set(key, up(before, {}));
  }
  const first = await (firstDeployments.get(key) as Promise<Update>);
  assert.equal(first.error, undefined, `the first deployment must succeed: ${String(first.error)}`);
  return up(after, first.outputs as Record<string, unknown>);
}

function assertRefusedBeforeAnything(update: Update, settings: string[]): SettingsError {
  assert.ok(update.error instanceof SettingsError, `expected a SettingsError, got ${String(update.error)}`);
  assert.deepEqual(
    update.error.problems.map((p) => p.slice(0, p.indexOf(":"))),
    settings,
    update.error.message,
  );
  assert.deepEqual(
    update.registered.map((r) => r.type),
    [STACK_REFERENCE],
    "nothing but the StackReference (a read) may be registered before the check",
  );
  assert.deepEqual(update.calls, [], "no invoke before the check either");
  return update.error;
}

describe("day 2 (mocked stack): the deployed settings record", () => {
  it("a new stack: the StackReference to itself is registered first, and deployedSettings is the record", async () => {
    const update = await up({ brokerName: "orders" }, {});
    assert.equal(update.error, undefined, String(update.error));
    const first = update.registered[0] as Recorded;
    assert.equal(first.type, STACK_REFERENCE);
    // No organization under the mocks: the bare stack name (lib/dayTwo.ts selfStackReferenceName).
    assert.equal(first.inputs.name, "test");
    assert.equal(ofType(update.registered, STACK_REFERENCE).length, 1);
    assert.equal(ofType(update.registered, "aws:ec2/instance:Instance").length, 3, "the cluster is created");
    const expected = deployedSettingsRecord(parseSettings({ ...BASE, brokerName: "orders" }), {
      clusterName: "test",
    });
    assert.deepEqual(update.outputs?.deployedSettings, expected);
    assert.deepEqual(JSON.parse(JSON.stringify(update.outputs?.deployedSettings)), expected, "plain JSON");
  });

  it("exports deployedSettings as a plain (not secret) output", async () => {
    const { exported } = await up({}, {});
    assert.equal(await pulumi.isSecret(pulumi.output(exported?.deployedSettings)), false);
    assert.equal(await pulumi.isSecret(exported?.brokerPassword as pulumi.Output<string>), true, "(control)");
  });
});

describe("day 2 (mocked stack): refused changes", () => {
  it("nodeCount 3 -> 5: SettingsError naming the setting and both values, and nothing but the read", async () => {
    const error = assertRefusedBeforeAnything(await change({}, { nodeCount: "5" }), ["nodeCount"]);
    assert.match(error.problems[0] ?? "", /^nodeCount: deployed "3", got "5"; allowed: 3 on this stack \(/);
    assert.match(error.message, /create a new stack with the new value, move the clients to its failoverUrl/);
  });

  it("every refused change of one update is listed at once", async () => {
    const update = await change(
      {},
      { haMode: "shared-kahadb", os: "ubuntu-24.04", vpcCidr: "10.1.0.0/16", rootVolumeSizeGiB: "10" },
    );
    const error = assertRefusedBeforeAnything(update, ["haMode", "os", "vpcCidr", "rootVolumeSizeGiB"]);
    assert.ok(error.problems.some((p) => p.startsWith('os: deployed "debian-12", got "ubuntu-24.04"')));
  });
});

describe("day 2 (mocked stack): allowed changes and unknown deployments", () => {
  it("heaps, versions within the mode, timeouts, tags, CIDRs and a bigger disk go through", async () => {
    const after = {
      brokerHeapMb: "1536",
      zookeeperHeapMb: "384",
      activemqVersion: "5.16.7",
      zkSessionTimeoutMs: "4000",
      failoverConnectionTimeoutMs: "2000",
      tags: '{"team":"messaging"}',
      clientCidrs: "172.16.0.0/12",
      rootVolumeSizeGiB: "40",
    };
    const update = await change({}, after);
    assert.equal(update.error, undefined, String(update.error));
    assert.equal(ofType(update.registered, "aws:ec2/instance:Instance").length, 3);
    assert.deepEqual(
      update.outputs?.deployedSettings,
      deployedSettingsRecord(parseSettings({ ...BASE, ...after }), { clusterName: "test" }),
      "the update records its own settings for the next one",
    );
  });

  it("instanceType t3.medium -> m6i.large goes through: every instance gets the new type, and it is recorded", async () => {
    const update = await change({}, { instanceType: "m6i.large" });
    assert.equal(update.error, undefined, String(update.error));
    assert.deepEqual(
      ofType(update.registered, "aws:ec2/instance:Instance").map((i) => i.inputs.instanceType),
      ["m6i.large", "m6i.large", "m6i.large"],
    );
    assert.equal((update.outputs?.deployedSettings as { instanceType: string }).instanceType, "m6i.large");
  });

  it("a deployment that predates the record: warned about, not checked, and the record is written", async (t) => {
    const warn = t.mock.method(console, "warn", () => undefined);
    // What a deployment of the earlier program left: haMode and the others, no deployedSettings.
    const update = await up(
      { nodeCount: "5" },
      { haMode: "replicated-leveldb", failoverUrl: "failover:(…)" },
    );
    assert.equal(update.error, undefined, String(update.error));
    const warnings = warn.mock.calls.map((c) => String(c.arguments[0]));
    assert.ok(
      warnings.some((w) => w.includes("its last deployment predates the deployedSettings output")),
      warnings.join("\n"),
    );
    assert.equal((update.outputs?.deployedSettings as { nodeCount: number }).nodeCount, 5);
  });

  it("an unreadable record (another format) is warned about and not checked", async (t) => {
    const warn = t.mock.method(console, "warn", () => undefined);
    const update = await up(
      { nodeCount: "5" },
      { haMode: "replicated-leveldb", deployedSettings: { format: 2, nodeCount: 3 } },
    );
    assert.equal(update.error, undefined, String(update.error));
    assert.ok(
      warn.mock.calls.some((c) =>
        String(c.arguments[0]).includes("its deployedSettings output is unreadable"),
      ),
    );
  });

  it("the first deployment's own outputs carry no secret in the record", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKeyOperatorKeyOperatorKey0000 ops@example";
    const update = await up({ sshPublicKey: key, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----x" }, {});
    assert.equal(update.error, undefined, String(update.error));
    const text = JSON.stringify(update.outputs?.deployedSettings);
    assert.ok(!text.includes("AAAAC3Nza") && !text.includes("PRIVATE"), text);
    assert.match(text, /"sshKey":"sha256:[0-9a-f]{16}"/);
  });
});
