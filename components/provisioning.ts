import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterFacts } from "../lib/facts";
import { REMOTE_COMMAND, renderPayload, sha256 } from "../lib/payload";
import { PlanStep } from "../lib/plan";

export interface ClusterProvisioningArgs {
  /** The plan (lib/plan.ts): every step becomes one remote.Command, with the same order and dependencies. */
  readonly plan: readonly PlanStep[];
  /** Addresses and secrets the steps render their files from. */
  readonly facts: pulumi.Input<ClusterFacts>;
  /** Where to SSH to for each node (1-based index → public address). */
  readonly sshHosts: ReadonlyMap<number, pulumi.Input<string>>;
  readonly sshUser: string;
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Resources the first steps wait for (the instances). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Installs and starts the software: one remote.Command per plan step. Each step's payload (script, files,
 * arguments) is its standard input, so an unchanged step is not run again and a changed one re-runs alone,
 * together with the steps that list it in `rerunWith`.
 */
export class ClusterProvisioning extends pulumi.ComponentResource {
  /** Every step's resource, by step id. */
  public readonly steps: ReadonlyMap<string, command.remote.Command>;

  constructor(name: string, args: ClusterProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:provisioning:ClusterProvisioning", name, {}, opts);
    const facts = pulumi.output(args.facts);
    const payloads = new Map<string, pulumi.Output<string>>();
    const steps = new Map<string, command.remote.Command>();

    for (const step of args.plan) {
      const host = args.sshHosts.get(step.node);
      if (host === undefined) {
        throw new Error(`plan step ${step.id} runs on node ${step.node}, which has no SSH address`);
      }
      // Secret-tainted whenever the facts hold secrets: encrypted in state, never shown.
      const payload = facts.apply((f) => renderPayload(step, f));
      payloads.set(step.id, payload);
      const dependsOn = step.dependsOn.map((id) => {
        const dependency = steps.get(id);
        if (!dependency) {
          throw new Error(`plan step ${step.id} depends on ${id}, which does not come before it`);
        }
        return dependency;
      });
      const triggers = step.rerunWith.map((id) => (payloads.get(id) as pulumi.Output<string>).apply(sha256));
      steps.set(
        step.id,
        new command.remote.Command(
          `${name}-${step.id}`,
          {
            connection: {
              host,
              user: args.sshUser,
              privateKey: args.sshPrivateKey,
              // New instances take a while to accept SSH: keep dialling until the step's timeout.
              dialErrorLimit: -1,
              perDialTimeout: 15,
            },
            create: REMOTE_COMMAND,
            update: REMOTE_COMMAND,
            stdin: payload,
            triggers,
            addPreviousOutputInEnv: false,
          },
          {
            parent: this,
            dependsOn: step.dependsOn.length > 0 ? dependsOn : (args.dependsOn ?? []),
            customTimeouts: { create: `${step.timeoutMinutes}m`, update: `${step.timeoutMinutes}m` },
            // The private key and the payload's passwords stay out of logs and plain state.
            additionalSecretOutputs: ["stdin"],
          },
        ),
      );
    }
    this.steps = steps;
    this.registerOutputs({});
  }
}
