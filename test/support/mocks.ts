// Pulumi mocks for the whole stack: record every resource, answer the invokes the program makes and throw on any
// other, and run ActiveMqCluster with given settings. Shared by the stack test and the mock preview tool.
import * as pulumi from "@pulumi/pulumi";
import { getMonitor } from "@pulumi/pulumi/runtime/settings";
import * as runtimeState from "@pulumi/pulumi/runtime/state";
import { parseCidr, Cidr } from "../../lib/net";
import { parseSettings, RawSettings } from "../../lib/settings";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** A registration as the engine receives it: the resource's URN and the URNs it is also known by (its aliases). */
export interface Registration {
  urn: string;
  aliases: string[];
}

/** The PEM stand-in the mocked tls provider gives a resource: its name between the markers. */
export const mockPem = (kind: string, name: string) =>
  `-----BEGIN ${kind}-----\n${name}\n-----END ${kind}-----\n`;

export const AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"];
export const PASSWORDS: Record<string, string> = {};

export interface RunOptions {
  /** The id the mocked provider gives a resource (default `<name>-id`): a new id is a replacement. */
  readonly idOf?: (type: string, name: string) => string;
  /** The stack's outputs from its previous deployment, as a StackReference to the stack itself reads them. */
  readonly previousOutputs?: Record<string, unknown>;
  /** The secret tlsCaKey, as config.ts hands it to the cluster. */
  readonly tlsCaKey?: string;
  /** The secret tlsNodeKeys (a JSON list), as config.ts hands it to the cluster. */
  readonly tlsNodeKeys?: string;
  /** The groups deployed before this run, as config.ts hands them to the cluster (default: the cluster's default). */
  readonly deployedGroups?: number;
  /** Zones of AZS that do not offer the instance type (getInstanceTypeOfferings leaves them out). */
  readonly zonesLacking?: readonly string[];
}

/** One mocked stack run: its resources, the dependencies each remote.Command was given, and the cluster. */
export async function runStack(
  raw: RawSettings,
  ssh: string[] = ["198.51.100.7/32"],
  options: RunOptions = {},
) {
  const idOf = options.idOf ?? ((_type: string, name: string) => `${name}-id`);
  const resources: Recorded[] = [];
  const calls: string[] = [];
  // What AWS would derive: an instance's zone is its network interface's subnet's zone.
  const subnetZone = new Map<string, string>();
  const nicSubnet = new Map<string, string>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        switch (args.type) {
          case "aws:ec2/networkInterface:NetworkInterface": {
            // Round-robin over the three /18 subnets, as every group's nodes are placed; host 10 + node, and 10
            // more per group, so addresses do not depend on the order resources register in.
            const n = hostNumber(args.name);
            state.privateIp = `10.0.${((n.node - 1) % 3) * 64}.${10 + n.serial}`;
            nicSubnet.set(idOf(args.type, args.name), args.inputs.subnetId as string);
            break;
          }
          case "aws:ec2/eip:Eip": {
            const n = hostNumber(args.name);
            state.publicIp = `203.0.113.${n.serial}`;
            state.publicDns = `ec2-203-0-113-${n.serial}.eu-west-1.compute.amazonaws.com`;
            state.privateDns = `ip-10-0-${((n.node - 1) % 3) * 64}-${10 + n.serial}.eu-west-1.compute.internal`;
            break;
          }
          case "aws:ec2/instance:Instance":
            state.availabilityZone = subnetZone.get(
              nicSubnet.get(
                (args.inputs.primaryNetworkInterface as { networkInterfaceId: string }).networkInterfaceId,
              ) ?? "",
            );
            break;
          case "aws:ec2/subnet:Subnet":
            subnetZone.set(idOf(args.type, args.name), args.inputs.availabilityZone as string);
            break;
          case "aws:ec2/vpc:Vpc":
            state.cidrBlock = args.inputs.cidrBlock;
            break;
          case "aws:efs/fileSystem:FileSystem":
            state.dnsName = "fs-0123.efs.eu-west-1.amazonaws.com";
            break;
          case "random:index/randomPassword:RandomPassword":
            state.result = `secret-${args.name}-value`;
            PASSWORDS[args.name] = state.result as string;
            break;
          case "tls:index/privateKey:PrivateKey":
            // One key per resource, so each host's key can be told apart.
            state.publicKeyOpenssh = `ssh-ed25519 AAAA${Buffer.from(args.name).toString("base64")}`;
            state.privateKeyOpenssh = `-----BEGIN OPENSSH PRIVATE KEY-----\n${args.name}\n-----END OPENSSH PRIVATE KEY-----\n`;
            state.privateKeyPem = mockPem("PRIVATE KEY", args.name);
            break;
          case "tls:index/certRequest:CertRequest":
            state.certRequestPem = mockPem("CERTIFICATE REQUEST", args.name);
            break;
          case "tls:index/selfSignedCert:SelfSignedCert":
          case "tls:index/locallySignedCert:LocallySignedCert":
            state.certPem = mockPem("CERTIFICATE", args.name);
            break;
          case "aws:ec2/keyPair:KeyPair":
            state.keyName = `${args.name}-key`;
            break;
          case "pulumi:pulumi:StackReference":
            // What the engine answers: the outputs (none for a new stack) and which of them are secret.
            state.outputs = options.previousOutputs ?? {};
            state.secretOutputNames = [];
            break;
        }
        return { id: idOf(args.type, args.name), state };
      },
      call(args) {
        calls.push(args.token);
        switch (args.token) {
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: AZS, zoneIds: AZS.map((z) => `id-${z}`) };
          case "aws:index/getRegion:getRegion":
            return { region: "eu-west-1", name: "eu-west-1", id: "eu-west-1" };
          case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
            const type = (args.inputs.filters as { values: string[] }[])[0]?.values[0] ?? "";
            const locations = AZS.filter((z) => !(options.zonesLacking ?? []).includes(z));
            return {
              locations,
              instanceTypes: locations.map(() => type),
              locationTypes: locations.map(() => "availability-zone"),
            };
          }
          case "aws:ec2/getAmi:getAmi":
            return { id: "ami-0123456789abcdef0", name: "debian-12-amd64-20260101" };
          default:
            throw new Error(`unmocked invoke ${args.token} with ${JSON.stringify(args.inputs)}`);
        }
      },
    },
    "activemq-ha",
    "test",
    false,
  );
  // The SDK computes every alias URN itself, children's inherited ones too, when the engine does not take alias
  // specs: the URNs the engine would match state against, recorded here for the tests that keep URNs.
  // getStore is exported at run time, not in the SDK's declarations.
  (runtimeState as unknown as { getStore(): { supportsAliasSpecs: boolean } }).getStore().supportsAliasSpecs =
    false;
  const registrations = recordRegistrations();
  const dependencies = new Map<string, string[]>();
  /** The resource options that shape replacements, by resource name, and by `type::name`. */
  const options_ = new Map<string, { deleteBeforeReplace?: boolean; ignoreChanges?: string[] }>();
  const { ActiveMqCluster } = await import("../../components/cluster");
  const settings = parseSettings(raw);
  const cluster = new ActiveMqCluster(
    "amq",
    {
      settings,
      sshCidrs: ssh.map((c) => parseCidr(c) as Cidr),
      ...(options.tlsCaKey !== undefined ? { tlsCaKey: pulumi.secret(options.tlsCaKey) } : {}),
      ...(options.tlsNodeKeys !== undefined ? { tlsNodeKeys: pulumi.secret(options.tlsNodeKeys) } : {}),
      ...(options.deployedGroups !== undefined ? { deployedGroups: options.deployedGroups } : {}),
    },
    {
      transformations: [
        (t) => {
          const custom = t.opts as pulumi.CustomResourceOptions;
          const shaping = {
            ...(custom.deleteBeforeReplace !== undefined
              ? { deleteBeforeReplace: custom.deleteBeforeReplace }
              : {}),
            ...(t.opts.ignoreChanges !== undefined ? { ignoreChanges: t.opts.ignoreChanges } : {}),
          };
          // By name (the last resource of that name wins) and, unambiguously, by type and name.
          options_.set(t.name, shaping);
          options_.set(`${t.type}::${t.name}`, shaping);
          if (
            t.type === "command:remote:Command" ||
            t.type === "aws:ec2/instance:Instance" ||
            t.type === "aws:ec2/eip:Eip"
          ) {
            const deps = (t.opts.dependsOn ?? []) as pulumi.Resource[];
            const names = deps.map((d) => (d as unknown as { __name?: string }).__name ?? "?");
            // By name (the last resource of that name wins) and, unambiguously, by type and name.
            dependencies.set(t.name, names);
            dependencies.set(`${t.type}::${t.name}`, names);
          }
          return undefined;
        },
      ],
    },
  );
  const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
  const outputs = {
    failoverUrl: await value(cluster.failoverUrl),
    publicFailoverUrl: await value(cluster.publicFailoverUrl),
    zookeeperConnect: await value(cluster.zookeeperConnect),
    nodes: await value(cluster.nodes),
    groups: await value(cluster.groups),
  };
  // Let every registration finish.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { resources, registrations, calls, dependencies, options: options_, cluster, outputs, settings };
}

interface RegisterRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getAliasurnsList(): string[];
}

/** Wraps the mock monitor's registerResource to record each resource's URN and aliases. */
function recordRegistrations(): Registration[] {
  const registrations: Registration[] = [];
  const monitor = getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
    newUrn(parent: string, type: string, name: string): string;
  };
  // The engine's URN carries the whole chain of parent types; the mock monitor keeps only the parent's own type,
  // which would hide a change of parent (a child moved under a new component) from these tests.
  monitor.newUrn = (parent, type, name) =>
    `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${parent ? `${parent.split("::")[2] as string}$` : ""}${type}::${name}`;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    registrations.push({
      urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
      aliases: req.getAliasurnsList(),
    });
    return register(req, callback);
  };
  return registrations;
}

/** A node's resource name (amq-node-2, amq-g3-node-1): its node, and node + 10 × (group - 1). */
function hostNumber(name: string): { node: number; serial: number } {
  const m = /-(?:g(\d+)-)?node-(\d+)$/.exec(name);
  if (!m) {
    throw new Error(`not a node's resource name: ${name}`);
  }
  const node = Number(m[2]);
  return { node, serial: node + 10 * (Number(m[1] ?? "1") - 1) };
}

/** Pulumi's wire form of a secret value, as mocks receive it. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export function unwrapSecret(v: unknown): { secret: boolean; value: unknown } {
  if (v && typeof v === "object" && SECRET_SIG in v) {
    return { secret: true, value: (v as unknown as { value: unknown }).value };
  }
  return { secret: false, value: v };
}

export const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
export const ofType = (rs: Recorded[], type: string) => rs.filter((r) => r.type === type);

export type StackRun = Awaited<ReturnType<typeof runStack>>;
