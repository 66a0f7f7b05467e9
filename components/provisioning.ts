import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterFacts } from "../lib/facts";
import { renderPayload, sha256 } from "../lib/payload";
import { PlanStep } from "../lib/plan";
import { dialPolicy, HostIdentity, STEP_COMMANDS, stepTriggers } from "../lib/stepRun";

/** How the provisioning reaches one node's host, and what identifies that host. */
export interface ProvisionedHost {
  /** Where to SSH to (the Elastic IP, which outlives the instance). */
  readonly sshAddress: pulumi.Input<string>;
  /** The host's public key (OpenSSH line): a host presenting any other key is refused before anything is sent. */
  readonly hostKey: pulumi.Input<string>;
  readonly instanceId: pulumi.Input<string>;
  readonly networkInterfaceId: pulumi.Input<string>;
  /** What the node's first steps wait for: its rejoin step (components/hosts.ts), which follows its instance. */
  readonly after: pulumi.Resource;
}

export interface ClusterProvisioningArgs {
  /** The plan (lib/plan.ts): every step becomes one remote.Command, with the same order and dependencies. */
  readonly plan: readonly PlanStep[];
  /** Addresses and secrets the steps render their files from. */
  readonly facts: pulumi.Input<ClusterFacts>;
  /** Each node's host, by 1-based node index. */
  readonly hosts: ReadonlyMap<number, ProvisionedHost>;
  readonly sshUser: string;
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Resources every node's first steps wait for besides the node's own instance (EFS mount targets). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Installs and starts the software: one remote.Command per plan step. Each step's payload (script, files,
 * arguments) is its standard input, so an unchanged step is not run again; a changed one re-runs, together with
 * the steps that list it in `rerunWith`, and a replaced host re-runs every step of its node and the gates.
 */
export class ClusterProvisioning extends pulumi.ComponentResource {
  /** Every step's resource, by step id. */
  public readonly steps: ReadonlyMap<string, command.remote.Command>;

  constructor(name: string, args: ClusterProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:provisioning:ClusterProvisioning", name, {}, opts);
    const facts = pulumi.output(args.facts);
    const payloads = new Map<string, pulumi.Output<string>>();
    const steps = new Map<string, command.remote.Command>();
    const hostOf = (step: PlanStep, node: number): ProvisionedHost => {
      const host = args.hosts.get(node);
      if (host === undefined) {
        throw new Error(`plan step ${step.id} needs node ${node}, which has no host`);
      }
      return host;
    };
    const identities = (step: PlanStep) =>
      pulumi.all(
        step.hostTriggers.map((node) => {
          const host = hostOf(step, node);
          return pulumi
            .all([host.instanceId, host.networkInterfaceId])
            .apply(([instanceId, networkInterfaceId]): [number, HostIdentity] => [
              node,
              { instanceId, networkInterfaceId },
            ]);
        }),
      );

    for (const step of args.plan) {
      const host = hostOf(step, step.node);
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
      const digests = pulumi.all(
        step.rerunWith.map((id) => (payloads.get(id) as pulumi.Output<string>).apply(sha256)),
      );
      const triggers = pulumi.all([digests, identities(step)]).apply(([digestList, hostList]) => {
        const digestOf = new Map(step.rerunWith.map((id, i) => [id, digestList[i] as string]));
        const hostById = new Map(hostList);
        return stepTriggers(
          step,
          (id) => digestOf.get(id) as string,
          (node) => hostById.get(node) as HostIdentity,
        );
      });
      steps.set(
        step.id,
        new command.remote.Command(
          `${name}-${step.id}`,
          {
            connection: {
              host: host.sshAddress,
              user: args.sshUser,
              privateKey: args.sshPrivateKey,
              hostKey: host.hostKey,
              ...dialPolicy(step),
            },
            ...STEP_COMMANDS,
            stdin: payload,
            triggers,
            addPreviousOutputInEnv: false,
          },
          {
            parent: this,
            // The node's own rejoin step, never the hosts component (which holds the other nodes' rejoin steps, each
            // waiting for the instance before it).
            dependsOn: step.dependsOn.length > 0 ? dependsOn : [host.after, ...(args.dependsOn ?? [])],
            // The step bounds itself on the host (lib/payload.ts); this outer bound adds the dials' worst case.
            customTimeouts: {
              create: `${step.timeoutMinutes + 5}m`,
              update: `${step.timeoutMinutes + 5}m`,
            },
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
