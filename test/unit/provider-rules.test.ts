// The rules by which the cluster-in-a-box decides what `pulumi up` runs (test/e2e/lib/provider-rules.ts), each
// pinned to what the provider's source says, and applied to the program's own Commands.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REJOIN_COMMANDS } from "../../lib/rollout";
import { STEP_COMMANDS } from "../../lib/stepRun";
import {
  CommandInputs,
  commandOperation,
  commandRuns,
  InstanceInputs,
  instanceAction,
} from "../e2e/lib/provider-rules";

const base: CommandInputs = { ...STEP_COMMANDS, stdin: "s1", triggers: ["t1"], connection: "c1" };

describe("pulumi-command: what a remote.Command does on pulumi up", () => {
  it("new → create; changed triggers → replace; changed stdin, connection or commands → update; else nothing", () => {
    assert.equal(commandOperation(undefined, base), "create");
    assert.equal(commandOperation(base, { ...base, triggers: ["t2"] }), "replace");
    assert.equal(commandOperation(base, { ...base, triggers: ["t2"], stdin: "s2" }), "replace");
    assert.equal(commandOperation(base, { ...base, stdin: "s2" }), "update");
    assert.equal(commandOperation(base, { ...base, connection: "c2" }), "update");
    assert.equal(commandOperation(base, { ...base, update: "other" }), "update");
    assert.equal(commandOperation(base, { ...base }), "same");
  });

  it("create and replace run `create` (nothing without one); update runs `update`, else `create`", () => {
    const noCreate: CommandInputs = { stdin: "", triggers: [], connection: "", update: "u" };
    assert.equal(
      commandRuns("replace", noCreate),
      undefined,
      "a replaced Command with no create runs nothing",
    );
    assert.equal(commandRuns("create", noCreate), undefined);
    assert.equal(commandRuns("update", noCreate), "u");
    const noUpdate: CommandInputs = { stdin: "", triggers: [], connection: "", create: "c" };
    assert.equal(commandRuns("update", noUpdate), "c");
    assert.equal(commandRuns("replace", noUpdate), "c");
    assert.equal(commandRuns("same", noUpdate), undefined);
  });

  it("every plan step runs its payload on create, replace and update", () => {
    for (const op of ["create", "replace", "update"] as const) {
      assert.equal(commandRuns(op, base), "sudo bash -s");
    }
  });

  it("a rejoin step waits (runs its payload) when created or replaced, and only reads its input on an update", () => {
    const rejoin: CommandInputs = {
      ...REJOIN_COMMANDS,
      stdin: "s",
      triggers: ["t3.medium"],
      connection: "c",
    };
    const retyped = { ...rejoin, triggers: ["t3.large"] };
    assert.equal(commandRuns(commandOperation(rejoin, retyped), retyped), "sudo bash -s");
    const repayloaded = { ...rejoin, stdin: "s2" };
    assert.equal(commandRuns(commandOperation(rejoin, repayloaded), repayloaded), "cat >/dev/null");
  });
});

describe("terraform-provider-aws (pulumi-aws): what happens to an instance on pulumi up", () => {
  const instance: InstanceInputs = {
    instanceType: "t3.medium",
    userData: "u1",
    forceNew: { keyName: "k", networkInterface: "eni-1" },
  };

  it("new → created; nothing changed → nothing", () => {
    assert.deepEqual(instanceAction(undefined, instance, false), { kind: "create" });
    assert.deepEqual(instanceAction(instance, { ...instance }, false), { kind: "same" });
  });

  it("a new type or user data: stopped and started in place, once per attribute", () => {
    assert.deepEqual(instanceAction(instance, { ...instance, instanceType: "t3.large" }, false), {
      kind: "stop-start",
      attributes: ["instanceType"],
    });
    assert.deepEqual(
      instanceAction(instance, { ...instance, instanceType: "t3.large", userData: "u2" }, false),
      {
        kind: "stop-start",
        attributes: ["instanceType", "userData"],
      },
    );
  });

  it("a ForceNew field or `--replace`: replaced (a blank host), whatever else changed", () => {
    assert.deepEqual(
      instanceAction(
        instance,
        { ...instance, forceNew: { keyName: "k2", networkInterface: "eni-1" } },
        false,
      ),
      {
        kind: "replace",
      },
    );
    assert.deepEqual(instanceAction(instance, { ...instance, instanceType: "t3.large" }, true), {
      kind: "replace",
    });
  });
});
