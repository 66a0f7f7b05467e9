// Day 2 under mocks: what a replaced host re-runs, and how hosts are replaced and recognised. The program runs
// twice with the same settings; the second time the mocked provider gives one node's instance (or network
// interface) a new id, as AWS does for a replacement, and the two runs' remote.Commands are compared.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { renderStepPayload, sha256 } from "../../lib/payload";
import { buildPlan } from "../../lib/plan";
import { hostRejoinStep, rebuildSteps, rejoinTriggers } from "../../lib/rollout";
import { commandOperation, commandRuns } from "../e2e/lib/provider-rules";
import { ofType, Recorded, runStack, StackRun, unwrapSecret } from "../support/mocks";

/** Each remote.Command's triggers, by step id (without the `amq-` prefix). */
function triggersByStep(run: StackRun): Map<string, unknown> {
  return new Map(
    ofType(run.resources, "command:remote:Command").map((c) => [
      c.name.replace(/^amq-/, ""),
      JSON.stringify(unwrapSecret(c.inputs.triggers).value),
    ]),
  );
}

function changedSteps(a: StackRun, b: StackRun): string[] {
  const before = triggersByStep(a);
  return [...triggersByStep(b)].filter(([id, t]) => before.get(id) !== t).map(([id]) => id);
}

/** Ids as the mock gives them, but a new one for node 2's resource of the given type. */
const replacing = (type: string) => (t: string, name: string) =>
  t === type && name === "amq-node-2" ? "replaced-2-id" : `${name}-id`;

describe("replacement (mocked): a new host re-runs its node's steps and the gates, nothing else", () => {
  let first: StackRun;
  before(async () => {
    first = await runStack({});
  });

  for (const [what, type] of [
    ["instance", "aws:ec2/instance:Instance"],
    ["network interface", "aws:ec2/networkInterface:NetworkInterface"],
  ] as const) {
    it(`a new ${what} for node 2 changes the triggers of exactly node 2's steps and both gates`, async () => {
      const second = await runStack({}, undefined, { idOf: replacing(type) });
      const expected = buildPlan(first.settings)
        .filter((s) => s.node === 2 || s.action.endsWith("-gate"))
        .map((s) => s.id);
      assert.equal(expected.length, 11, "9 steps of node 2 (its monitor among them) and 2 gates");
      // The instance's own rejoin step is triggered by the instance, not by its network interface.
      const rejoin = what === "instance" ? ["n2-host-rejoin"] : [];
      assert.deepEqual(changedSteps(first, second).sort(), [...expected, ...rejoin].sort());
    });
  }

  it("re-runs nothing when no host changed", async () => {
    const again = await runStack({});
    assert.deepEqual(changedSteps(first, again), []);
  });

  it("associates each Elastic IP only after the internet gateway exists (pulumi-aws's Eip: Gateway.NotAttached)", () => {
    for (const n of [1, 2, 3]) {
      assert.deepEqual(first.dependencies.get(`aws:ec2/eip:Eip::amq-node-${n}`), ["amq-igw"]);
    }
  });

  it("changes instances one at a time: node n's instance waits for node n-1's rejoin step", () => {
    assert.deepEqual(first.dependencies.get("amq-node-1"), ["amq-node-1"], "node 1: its Elastic IP only");
    assert.deepEqual(first.dependencies.get("amq-node-2"), ["amq-node-2", "amq-n1-host-rejoin"]);
    assert.deepEqual(first.dependencies.get("amq-node-3"), ["amq-node-3", "amq-n2-host-rejoin"]);
    for (const n of [1, 2, 3]) {
      assert.deepEqual(first.dependencies.get(`amq-n${n}-host-rejoin`), [`amq-node-${n}`]);
    }
  });

  it("rejoin steps run their create when replaced, that is when the instance's type, user data or id changes, verifying the host key", () => {
    const rejoins = ofType(first.resources, "command:remote:Command").filter((c) =>
      c.name.endsWith("-host-rejoin"),
    );
    assert.deepEqual(
      rejoins.map((c) => c.name),
      ["amq-n1-host-rejoin", "amq-n2-host-rejoin", "amq-n3-host-rejoin"],
    );
    rejoins.forEach((c, i) => {
      const n = i + 1;
      // pulumi-command replaces a Command whose triggers change and runs its create: that is the wait.
      assert.equal(c.inputs.create, "sudo bash -s");
      assert.equal(c.inputs.update, "cat >/dev/null", "an update means the instance did not change");
      const instance = ofType(first.resources, "aws:ec2/instance:Instance").find(
        (r) => r.name === `amq-node-${n}`,
      );
      const userData = unwrapSecret(instance?.inputs.userData).value as string;
      assert.deepEqual(
        unwrapSecret(c.inputs.triggers).value,
        rejoinTriggers("t3.medium", sha256(userData), `amq-node-${n}-id`),
      );
      const connection = unwrapSecret(c.inputs.connection).value as Record<string, unknown>;
      assert.equal(connection.host, `203.0.113.${n}`);
      assert.equal(
        connection.hostKey,
        `ssh-ed25519 AAAA${Buffer.from(`amq-node-${n}-host-key`).toString("base64")}`,
      );
      // The rebuild it carries: the node's own steps, rendered from the same facts as the provisioning's.
      const provisioned = (id: string) =>
        unwrapSecret(
          ofType(first.resources, "command:remote:Command").find((r) => r.name === `amq-${id}`)?.inputs.stdin,
        ).value as string;
      const rebuild = rebuildSteps(buildPlan(first.settings), n).map((s) => ({
        id: s.id,
        payload: provisioned(s.id),
      }));
      assert.deepEqual(
        rebuild.map((r) => r.id),
        buildPlan(first.settings)
          .filter((s) => s.node === n && !s.action.endsWith("-gate"))
          .map((s) => s.id),
      );
      // The mocked network interfaces' addresses (test/support/mocks.ts), in node order.
      const members = [1, 2, 3].map((k) => `10.0.${(k - 1) * 64}.${10 + k}`);
      const { step, input } = hostRejoinStep(first.settings, n, members, rebuild);
      assert.equal(unwrapSecret(c.inputs.stdin).value, renderStepPayload(step, input));
      assert.deepEqual(input.inputs, {
        SELF_INDEX: String(n),
        HA_MODE: "replicated-leveldb",
        BROKER_PORT: "61617",
        REPLICATION_PORT: "61619",
        ZOOKEEPER_CLIENT_PORT: "2181",
        ZOOKEEPER_DEPLOYED: "true",
        PEER_ADDRESSES: members.filter((_, i) => i + 1 !== n).join(" "),
        SERVICE_SECONDS: "300",
        REBUILD_STEPS: rebuild.map((r) => r.id).join(" "),
      });
    });
  });

  it("a new instanceType changes every rejoin step's triggers (so the provider replaces it and runs its create) and nothing of the provisioning", async () => {
    const bigger = await runStack({ instanceType: "m6i.large" });
    assert.deepEqual(changedSteps(first, bigger).sort(), [
      "n1-host-rejoin",
      "n2-host-rejoin",
      "n3-host-rejoin",
    ]);
    const rejoins = ofType(bigger.resources, "command:remote:Command").filter((c) =>
      c.name.endsWith("-host-rejoin"),
    );
    for (const c of rejoins) {
      const inputs = { create: c.inputs.create as string, stdin: "", triggers: [], connection: "" };
      assert.equal(
        commandRuns(
          commandOperation({ ...inputs, triggers: ["before"] }, { ...inputs, triggers: ["after"] }),
          inputs,
        ),
        "sudo bash -s",
      );
    }
  });

  it("replaces instances delete-first (their network interface serves one instance at a time)", () => {
    for (const n of [1, 2, 3]) {
      assert.deepEqual(first.options.get(`amq-node-${n}`), {
        deleteBeforeReplace: true,
        ignoreChanges: ["ami"],
      });
    }
  });

  it("boots every instance with its own host key (a secret), the key its steps verify", () => {
    const instances = ofType(first.resources, "aws:ec2/instance:Instance");
    const keys = ofType(first.resources, "tls:index/privateKey:PrivateKey")
      .map((k) => k.name)
      .filter((name) => name.endsWith("-host-key") || name.endsWith("-ssh"));
    assert.deepEqual(keys.sort(), [
      "amq-node-1-host-key",
      "amq-node-2-host-key",
      "amq-node-3-host-key",
      "amq-ssh",
    ]);
    instances.forEach((instance: Recorded, i) => {
      const userData = unwrapSecret(instance.inputs.userData);
      assert.equal(userData.secret, true, "the user data holds a private host key");
      const text = userData.value as string;
      assert.match(text, /^#cloud-config\n/);
      const config = parse(text) as Record<string, unknown>;
      const name = `amq-node-${i + 1}-host-key`;
      assert.deepEqual(config, {
        ssh_deletekeys: true,
        ssh_genkeytypes: [],
        ssh_keys: {
          ed25519_private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${name}\n-----END OPENSSH PRIVATE KEY-----\n`,
          ed25519_public: `ssh-ed25519 AAAA${Buffer.from(name).toString("base64")}`,
        },
      });
    });
  });
});
