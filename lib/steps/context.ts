// What every part of the plan builds its steps with: the settings, the nodes, and the helpers that name steps,
// find a node's facts and declare managed files. Pure.
import { ClusterFacts, NodeFacts } from "../facts";
import { ManagedFile, PlanStep, StepInputs } from "./types";
import { StackSettings } from "../settings";

export interface PlanContext {
  readonly settings: StackSettings;
  /** 1-based node indexes, in order. */
  readonly nodes: readonly number[];
  /** The last node, where the readiness gates run. */
  readonly last: number;
  /**
   * Configure and settle steps go one host at a time (node n after node n-1), so a change rolls with a master
   * serving. False on a group's first deployment, where nothing serves yet: every host configures at once.
   */
  readonly oneHostAtATime: boolean;
}

export type StepSpec = Omit<PlanStep, "hostTriggers" | "waitsForBoot"> & Partial<PlanStep>;

/** Unless it says otherwise, a step belongs to its own node's host and does not wait for a boot. */
export function step(spec: StepSpec): PlanStep {
  return { hostTriggers: [spec.node], waitsForBoot: false, ...spec };
}

export const stepId = (node: number, action: string) => `n${node}-${action}`;

export const onEveryNode = (ctx: PlanContext, action: string) => ctx.nodes.map((n) => stepId(n, action));

export function nodeOf(facts: ClusterFacts, index: number): NodeFacts {
  const node = facts.nodes.find((n) => n.index === index);
  if (!node) {
    throw new Error(`no address known for node ${index}`);
  }
  return node;
}

export function managed(
  path: string,
  content: string,
  owner: string,
  group: string,
  mode: string,
): ManagedFile {
  return { path, content, owner, group, mode };
}

/** The step of the previous node that node n's step of `action` waits for, when changes roll one host at a time. */
export const afterPreviousNode = (ctx: PlanContext, n: number, action: string): string[] =>
  ctx.oneHostAtATime && n > 1 ? [stepId(n - 1, action)] : [];

/** Every node as INDEX=ADDRESS, space-separated: the group's members for the settle and gate scripts. */
export const nodeList = (facts: ClusterFacts) =>
  facts.nodes.map((n) => `${n.index}=${n.privateIp}`).join(" ");

export interface SettleAndGate {
  readonly service: "zookeeper" | "activemq";
  readonly settleScript: string;
  readonly gateScript: string;
  readonly gateDescription: string;
  /** What both scripts read to tell a role (the settle step adds SELF_INDEX, the gate the group's NODES). */
  readonly inputs: (facts: ClusterFacts) => StepInputs;
  /** Steps whose re-run re-runs every settle step and the gate too. */
  readonly alsoAfter?: readonly string[];
}

/**
 * After every host is configured: each host in turn applies a restart it deferred (the leader or master goes
 * last) and waits until its service has a healthy role; then one gate on the last host checks the whole group.
 */
export function settleAndGate(ctx: PlanContext, spec: SettleAndGate): PlanStep[] {
  const { service } = spec;
  const configured = onEveryNode(ctx, `${service}-configure`);
  const alsoAfter = spec.alsoAfter ?? [];
  const settles = ctx.nodes.map((n) =>
    step({
      id: stepId(n, `${service}-settle`),
      node: n,
      action: `${service}-settle`,
      script: spec.settleScript,
      description: `apply a deferred ${service} restart, then wait for a healthy role`,
      dependsOn: [...configured, ...afterPreviousNode(ctx, n, `${service}-settle`)],
      rerunWith: [stepId(n, `${service}-configure`), ...alsoAfter],
      timeoutMinutes: 10,
      input: (facts) => ({ inputs: { SELF_INDEX: String(n), ...spec.inputs(facts) }, files: [] }),
    }),
  );
  const gate = step({
    id: stepId(ctx.last, `${service}-gate`),
    node: ctx.last,
    action: `${service}-gate`,
    script: spec.gateScript,
    description: spec.gateDescription,
    dependsOn: onEveryNode(ctx, `${service}-settle`),
    rerunWith: [...configured, ...alsoAfter],
    // A replaced host anywhere in the group: the gate checks the whole group again.
    hostTriggers: ctx.nodes,
    timeoutMinutes: 10,
    input: (facts) => ({ inputs: { ...spec.inputs(facts), NODES: nodeList(facts) }, files: [] }),
  });
  return [...settles, gate];
}
