// Day 2: which settings may change on a live stack. The program exports the values that matter as the stack
// output `deployedSettings`; the next run reads them back (config.ts) and refuses, before any resource changes,
// a change that cannot be rolled over the hosts without losing the store or breaking every step. Pure.
import { createHash } from "node:crypto";
import { groupResourceName } from "./groups";
import { IMAGES } from "./images";
import { OperatingSystem, StackSettings } from "./settings";
import { CLIENT_CERTIFICATE_MODES, CLIENT_TRANSPORTS, ClientCertificates, ClientTransport } from "./tls";
import { HaMode } from "./versions";

/** The stack output holding the record. */
export const DEPLOYED_SETTINGS_OUTPUT = "deployedSettings";
/** An output every deployment has exported since the first version: its presence means "deployed before". */
export const EARLIER_OUTPUT = "haMode";

/**
 * What a deployment leaves behind for the next one to compare against. Plain JSON, no secret: the SSH public
 * key is kept only as a short hash. The keys are the settings' names, so problems can name them.
 */
export interface DeployedSettings {
  readonly format: 1;
  /** The name every resource is derived from (the stack's name, index.ts). */
  readonly clusterName: string;
  readonly haMode: HaMode;
  readonly nodeCount: number;
  /** "" with an existing VPC. */
  readonly vpcCidr: string;
  /** "" when the stack created its VPC. */
  readonly vpcId: string;
  /** Empty when the stack created its VPC. */
  readonly subnetIds: readonly string[];
  readonly os: OperatingSystem;
  /** Recorded, not compared: a new type rolls one node at a time (lib/rollout.ts). */
  readonly instanceType: string;
  readonly rootVolumeSizeGiB: number;
  /** "generated", or "sha256:" and the first 16 hex digits of the SHA-256 of the sshPublicKey line. */
  readonly sshKey: string;
  readonly brokerName: string;
  readonly zkPath: string;
  readonly zookeeperDeploy: boolean;
  readonly replicationPort: number;
  readonly zookeeperClientPort: number;
  readonly zookeeperPeerPort: number;
  readonly zookeeperElectionPort: number;
  /** Absent in records made before TLS existed: those stacks served plain TCP only. */
  readonly clientTransport?: ClientTransport;
  readonly clientCertificates?: ClientCertificates;
  /** Absent in records made before groups existed: those stacks had one group. */
  readonly groups?: number;
  /** This run's permission to lower groups: recorded with the rest, read only from the next settings. */
  readonly allowGroupRemoval?: boolean;
  /** The host monitor's port, for npm run status; absent in records made before the monitor existed. */
  readonly monitorPort?: number;
}

export const GENERATED_SSH_KEY = "generated";

export function sshKeyFingerprint(publicKey: string | undefined): string {
  return publicKey === undefined
    ? GENERATED_SSH_KEY
    : `sha256:${createHash("sha256").update(publicKey).digest("hex").slice(0, 16)}`;
}

export function deployedSettingsRecord(
  settings: StackSettings,
  extra: { readonly clusterName: string },
): DeployedSettings {
  const network = settings.network;
  return {
    format: 1,
    clusterName: extra.clusterName,
    haMode: settings.haMode,
    nodeCount: settings.nodeCount,
    vpcCidr: network.kind === "create" ? network.vpcCidr : "",
    vpcId: network.kind === "existing" ? network.vpcId : "",
    subnetIds: network.kind === "existing" ? [...network.subnetIds] : [],
    os: settings.os,
    instanceType: settings.instanceType,
    rootVolumeSizeGiB: settings.rootVolumeSizeGiB,
    sshKey: sshKeyFingerprint(settings.sshPublicKey),
    brokerName: settings.activemq.brokerName,
    zkPath: settings.activemq.zkPath,
    zookeeperDeploy: settings.zookeeper.deploy,
    replicationPort: settings.ports.replication,
    zookeeperClientPort: settings.ports.zookeeperClient,
    zookeeperPeerPort: settings.ports.zookeeperPeer,
    zookeeperElectionPort: settings.ports.zookeeperElection,
    clientTransport: settings.tls.transport,
    clientCertificates: settings.tls.clientCertificates,
    groups: settings.groups,
    allowGroupRemoval: settings.allowGroupRemoval,
    monitorPort: settings.ports.monitor,
  };
}

const STRING_FIELDS = [
  "clusterName",
  "vpcCidr",
  "vpcId",
  "instanceType",
  "sshKey",
  "brokerName",
  "zkPath",
] as const;
const HA_MODES: readonly string[] = ["replicated-leveldb", "shared-kahadb"] satisfies HaMode[];
const NUMBER_FIELDS = [
  "nodeCount",
  "rootVolumeSizeGiB",
  "replicationPort",
  "zookeeperClientPort",
  "zookeeperPeerPort",
  "zookeeperElectionPort",
] as const;

/** The record as read back from the stack's outputs, or why it cannot be used. */
export function parseDeployedSettings(value: unknown): DeployedSettings | { readonly unreadable: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { unreadable: "it is not an object" };
  }
  const v = value as Record<string, unknown>;
  if (v.format !== 1) {
    return { unreadable: `its format is ${JSON.stringify(v.format)}, this program reads format 1` };
  }
  const wrong = [
    ...STRING_FIELDS.filter((k) => typeof v[k] !== "string"),
    ...(!HA_MODES.includes(v.haMode as string) ? ["haMode"] : []),
    ...(!Object.keys(IMAGES).includes(v.os as string) ? ["os"] : []),
    ...NUMBER_FIELDS.filter((k) => typeof v[k] !== "number"),
    ...(typeof v.zookeeperDeploy !== "boolean" ? ["zookeeperDeploy"] : []),
    ...(!Array.isArray(v.subnetIds) || !v.subnetIds.every((s) => typeof s === "string") ? ["subnetIds"] : []),
    ...(v.clientTransport !== undefined &&
    !(CLIENT_TRANSPORTS as readonly unknown[]).includes(v.clientTransport)
      ? ["clientTransport"]
      : []),
    ...(v.clientCertificates !== undefined &&
    !(CLIENT_CERTIFICATE_MODES as readonly unknown[]).includes(v.clientCertificates)
      ? ["clientCertificates"]
      : []),
    ...(v.groups !== undefined && !(Number.isInteger(v.groups) && (v.groups as number) >= 1)
      ? ["groups"]
      : []),
    ...(v.monitorPort !== undefined && !Number.isInteger(v.monitorPort) ? ["monitorPort"] : []),
  ];
  if (wrong.length > 0) {
    return { unreadable: `${wrong.join(", ")} missing or of the wrong type` };
  }
  return v as unknown as DeployedSettings;
}

export type PreviousDeployment =
  | { readonly kind: "none" }
  | { readonly kind: "recorded"; readonly record: DeployedSettings }
  | { readonly kind: "unknown"; readonly reason: string };

/**
 * What the stack's previous outputs say: no deployment yet (a new stack has no outputs), a record to compare
 * against, or a deployment whose settings are unknown (it predates the record, or the record is unreadable).
 */
export function previousDeployment(recorded: unknown, hasEarlierOutputs: boolean): PreviousDeployment {
  if (recorded === undefined || recorded === null) {
    return hasEarlierOutputs
      ? { kind: "unknown", reason: `its last deployment predates the ${DEPLOYED_SETTINGS_OUTPUT} output` }
      : { kind: "none" };
  }
  const parsed = parseDeployedSettings(recorded);
  return "unreadable" in parsed
    ? {
        kind: "unknown",
        reason: `its ${DEPLOYED_SETTINGS_OUTPUT} output is unreadable (${parsed.unreadable})`,
      }
    : { kind: "recorded", record: parsed };
}

/**
 * How many of the stack's groups have been deployed before this run: none on a new stack, the record's count (1
 * before groups existed), and, when the previous settings are unknown, every group (so nothing skips the roll).
 * A group past that count serves nothing yet, and its hosts configure at once (lib/plan.ts firstDeployment).
 */
export function deployedGroupCount(previous: PreviousDeployment, groups: number): number {
  switch (previous.kind) {
    case "none":
      return 0;
    case "recorded":
      return previous.record.groups ?? 1;
    case "unknown":
      return groups;
  }
}

/**
 * The name under which the program reads its own stack's outputs. Pulumi Cloud needs the full
 * `<org>/<project>/<stack>`: a bare name would be looked up in the user's default organization. The DIY
 * backends always report the organization `organization` (pkg/backend/diy/state.go) and resolve a bare name
 * to the current project; the bare name is also the only form their legacy layout (no projects) accepts.
 * No organization at all (Pulumi's mocks, old CLIs): the bare name too.
 */
export function selfStackReferenceName(
  organization: string | undefined,
  project: string,
  stack: string,
): string {
  return organization === undefined || organization === "" || organization === "organization"
    ? stack
    : `${organization}/${project}/${stack}`;
}

/**
 * Node n's instance URN in group g, for commands an operator runs on one host's instance (`pulumi state`,
 * `--target`): the parent types chain as in @pulumi/pulumi's createUrn. Stacks made before groups existed have this
 * URN too from their first update on (the aliases of components/group.ts move them to it).
 */
export function nodeInstanceUrn(
  stack: string,
  project: string,
  clusterName: string,
  node: number | "<N>",
  group = 1,
): string {
  return (
    `urn:pulumi:${stack}::${project}::activemq-ha:cluster:ActiveMqCluster$activemq-ha:cluster:HaGroup` +
    `$activemq-ha:hosts:ClusterHosts$aws:ec2/instance:Instance::${groupResourceName(clusterName, group)}-node-${node}`
  );
}

const NEW_STACK =
  "create a new stack with the new value, move the clients to its failoverUrl, then destroy this one";

/**
 * Every change from the deployed record to the next one that cannot happen in place, as
 * `<setting>: deployed "<old>", got "<new>"; allowed: <what to do>`. No previous record (a new stack): none.
 * instanceType is not checked: AWS stops and starts an instance to change its type, and the hosts component
 * rolls that over the nodes one at a time, each after the previous one rejoined its groups (lib/rollout.ts).
 */
export function checkChange(previous: DeployedSettings | undefined, next: DeployedSettings): string[] {
  if (previous === undefined) {
    return [];
  }
  const problems: string[] = [];
  const refuse = (setting: string, deployed: string, got: string, allowed: string) =>
    problems.push(`${setting}: deployed "${deployed}", got "${got}"; allowed: ${allowed}`);

  // Every resource name derives from it: a renamed stack would create a second cluster and delete the first.
  if (previous.clusterName !== next.clusterName) {
    refuse(
      "stack name",
      previous.clusterName,
      next.clusterName,
      `"${previous.clusterName}" (every resource is named after the stack, so this update would replace the ` +
        `whole cluster); rename it back with pulumi stack rename ${previous.clusterName}`,
    );
  }
  // A rolling restart would run a master of each mode at once, and the new mode starts from an empty store.
  if (previous.haMode !== next.haMode) {
    refuse(
      "haMode",
      previous.haMode,
      next.haMode,
      `"${previous.haMode}" on this stack (rolled over the hosts, the group would run a ${previous.haMode} ` +
        `master and a ${next.haMode} master at once, and the new one starts from an empty store); to change ` +
        `mode, ${NEW_STACK}`,
    );
  }
  // The hosts keep their image (ignoreChanges on ami), but every step would log in as the new image's user.
  if (previous.os !== next.os) {
    refuse(
      "os",
      previous.os,
      next.os,
      `"${previous.os}" on this stack (the hosts keep their ${previous.os} image, and every step would log in ` +
        `as ${IMAGES[next.os].sshUser} instead of ${IMAGES[previous.os].sshUser}); to change it, ${NEW_STACK}`,
    );
  }
  // A new VPC, subnet or address block replaces the subnets, network interfaces and hosts all at once.
  const network = `(a new network replaces every subnet, network interface, address and host at once); to move, ${NEW_STACK}`;
  const createdVpc = (r: DeployedSettings) => r.vpcId === "";
  if (createdVpc(previous) && createdVpc(next)) {
    if (previous.vpcCidr !== next.vpcCidr) {
      refuse("vpcCidr", previous.vpcCidr, next.vpcCidr, `"${previous.vpcCidr}" ${network}`);
    }
  } else if (createdVpc(previous) !== createdVpc(next)) {
    const describe = (r: DeployedSettings) =>
      createdVpc(r) ? `(unset: a VPC of its own, ${r.vpcCidr})` : r.vpcId;
    refuse("vpcId", describe(previous), describe(next), `"${describe(previous)}" ${network}`);
  } else {
    if (previous.vpcId !== next.vpcId) {
      refuse("vpcId", previous.vpcId, next.vpcId, `"${previous.vpcId}" ${network}`);
    }
    const [before, after] = [previous.subnetIds.join(","), next.subnetIds.join(",")];
    if (before !== after) {
      refuse(
        "subnetIds",
        before,
        after,
        `"${before}", in this order (node N uses the Nth subnet) ${network}`,
      );
    }
  }
  // ZooKeeper's ensemble and LevelDB's replicas quorum are sized from it: no one-host-at-a-time path exists.
  if (previous.nodeCount !== next.nodeCount) {
    refuse(
      "nodeCount",
      String(previous.nodeCount),
      String(next.nodeCount),
      `${previous.nodeCount} on this stack (the ZooKeeper ensemble and replicated LevelDB's replicas quorum ` +
        `are sized from it, and changing them host by host loses quorum; not offered in shared-kahadb either, ` +
        `untested); for ${next.nodeCount} hosts, ${NEW_STACK}`,
    );
  }
  // EC2 sets the key pair only at launch: a new key replaces every instance at once.
  if (previous.sshKey !== next.sshKey) {
    refuse(
      "sshPublicKey",
      previous.sshKey,
      next.sshKey,
      `the deployed key, "${previous.sshKey}" (a hash of the key line; a new key pair replaces every ` +
        `instance at once); keep sshPublicKey and sshPrivateKey as they were, and add other keys for your ` +
        `own logins to ~/.ssh/authorized_keys on the hosts`,
    );
  }
  // EBS volumes grow in place; AWS cannot shrink one.
  if (next.rootVolumeSizeGiB < previous.rootVolumeSizeGiB) {
    refuse(
      "rootVolumeSizeGiB",
      String(previous.rootVolumeSizeGiB),
      String(next.rootVolumeSizeGiB),
      `${previous.rootVolumeSizeGiB} or more (AWS cannot shrink an EBS volume; growing is done in place); ` +
        `for smaller disks, ${NEW_STACK}`,
    );
  }
  if (previous.haMode === next.haMode && previous.haMode === "replicated-leveldb") {
    // Brokers restarted with the new value would form a second group under ZooKeeper and elect a second master.
    for (const key of ["brokerName", "zkPath"] as const) {
      if (previous[key] !== next[key]) {
        refuse(
          key,
          previous[key],
          next[key],
          `"${previous[key]}" in replicated-leveldb (during the rolling restart the restarted brokers would ` +
            `form a second group and elect a second master over another store); to change it, ${NEW_STACK}`,
        );
      }
    }
    // The firewall rule moves to the new port at once, while the running slaves still replicate on the old one.
    if (previous.replicationPort !== next.replicationPort) {
      refuse(
        "replicationPort",
        String(previous.replicationPort),
        String(next.replicationPort),
        `${previous.replicationPort} (the firewall opens the new port and closes the old one at once, so the ` +
          `slaves lose the master mid-way and quorum writes stall); to change it, ${NEW_STACK}`,
      );
    }
  }
  if (previous.zookeeperDeploy && next.zookeeperDeploy) {
    // The firewall closes the old port for every host at once, while the members and brokers still use it.
    const zookeeperPorts = {
      zookeeperPeerPort:
        "a member restarted with the new port cannot reach the leader, and the ensemble loses quorum mid-way",
      zookeeperElectionPort:
        "a member restarted with the new port cannot take part in elections, and the ensemble loses quorum mid-way",
      zookeeperClientPort:
        "the brokers' sessions and the gates still dial the old port, and the master loses its session",
    } as const;
    for (const [key, why] of Object.entries(zookeeperPorts) as [keyof typeof zookeeperPorts, string][]) {
      if (previous[key] !== next[key]) {
        refuse(
          key,
          String(previous[key]),
          String(next[key]),
          `${previous[key]} (the firewall closes the old port for every host at once, and ${why}); ` +
            `to change it, ${NEW_STACK}`,
        );
      }
    }
  }
  // A new mode is refused above as a whole; its other default for clientCertificates is no second problem.
  if (previous.haMode === next.haMode) {
    refuseClientCutOff(previous, next, refuse);
  }
  refuseGroupRemoval(previous, next, refuse);
  return problems;
}

/**
 * More groups are added as they are (the existing groups roll their new bridges in one node at a time); fewer
 * delete the last groups' hosts with every message in their stores, so that takes a drain and allowGroupRemoval.
 */
function refuseGroupRemoval(
  previous: DeployedSettings,
  next: DeployedSettings,
  refuse: (setting: string, deployed: string, got: string, allowed: string) => void,
): void {
  const before = previous.groups ?? 1;
  const after = next.groups ?? 1;
  if (after < before && next.allowGroupRemoval !== true) {
    const removed = Array.from({ length: before - after }, (_, i) => after + i + 1).join(", ");
    refuse(
      "groups",
      String(before),
      String(after),
      `${before} or more (this update would delete group ${removed} with every message in its store); to retire ` +
        `it: move its producers to another group, wait until its queues are empty (the bridges carry messages to ` +
        `consumers on other groups), then run this update with allowGroupRemoval true, and set it back to false`,
    );
  }
}

/**
 * Changes that would cut connected clients off at once, each with the step in between that lets them move: the
 * client port that clients use closing in the same update that opens the other (tcp and tls are one apart, through
 * tls+tcp), and client certificates becoming required on a TLS port that served clients without them.
 */
function refuseClientCutOff(
  previous: DeployedSettings,
  next: DeployedSettings,
  refuse: (setting: string, deployed: string, got: string, allowed: string) => void,
): void {
  const before = previous.clientTransport ?? "tcp";
  const after = next.clientTransport ?? "tcp";
  if ((before === "tcp" && after === "tls") || (before === "tls" && after === "tcp")) {
    const [from, to] = before === "tcp" ? ["tcp://", "ssl://"] : ["ssl://", "tcp://"];
    refuse(
      "clientTransport",
      before,
      after,
      `"tls+tcp" first (this update would close the port every client uses, ${from}, while opening ${to}): set ` +
        `clientTransport tls+tcp, move the clients to the new failoverUrl (with tls+tcp the stack outputs both), ` +
        `then set ${after}`,
    );
  }
  const certificatesBefore = previous.clientCertificates ?? "off";
  if (
    before !== "tcp" &&
    after !== "tcp" &&
    certificatesBefore === "off" &&
    next.clientCertificates === "required"
  ) {
    refuse(
      "clientCertificates",
      certificatesBefore,
      "required",
      `"optional" first (clients connected over TLS without a certificate would be refused at once): set ` +
        `clientCertificates optional, give the clients the stack's clientCertificate and clientKey (or your ` +
        `own, from clientCaCertificate), then set required`,
    );
  }
}
