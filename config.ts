// Reads the stack's configuration once, validates all of it (lib/settings.ts), refuses changes a running stack
// cannot take (lib/dayTwo.ts) and resolves the one default that needs the network: who may SSH in. Components
// never read pulumi.Config themselves.
import * as pulumi from "@pulumi/pulumi";
import {
  checkChange,
  DEPLOYED_SETTINGS_OUTPUT,
  deployedGroupCount,
  DeployedSettings,
  deployedSettingsRecord,
  EARLIER_OUTPUT,
  PreviousDeployment,
  previousDeployment,
  selfStackReferenceName,
} from "./lib/dayTwo";
import { elasticIpWarning } from "./lib/placement";
import { Cidr, parseCidr, parseIpv4 } from "./lib/net";
import { parseSettings, RawSettings, SettingsError, StackSettings } from "./lib/settings";

export interface StackConfig {
  readonly settings: StackSettings;
  /** Exported as the stack output `deployedSettings`, for the next run's check. */
  readonly deployedSettings: DeployedSettings;
  /** Groups deployed before this run (lib/dayTwo.ts deployedGroupCount): the others configure their hosts at once. */
  readonly deployedGroups: number;
  readonly sshCidrs: readonly Cidr[];
  readonly sshPrivateKey?: pulumi.Output<string>;
  /** The private key of the user's CA, when tlsCaCertificate is set. */
  readonly tlsCaKey?: pulumi.Output<string>;
  /** The keys of the user's node certificates (a JSON list), when tlsNodeCertificates is set. */
  readonly tlsNodeKeys?: pulumi.Output<string>;
}

/** Every `<project>:<key>` value of the stack, by key (secrets are not decrypted here). */
function rawSettings(): RawSettings {
  const prefix = `${pulumi.getProject()}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) {
      raw[key.slice(prefix.length)] = value;
    }
  }
  return raw;
}

/** Where checkip answers with the caller's public IPv4 address. */
const ADDRESS_LOOKUP_URL = "https://checkip.amazonaws.com";

/** The deployer's public address as a /32, so SSH is open to the machine running `pulumi up` and nobody else. */
export async function lookupDeployerCidr(
  fetchText: (url: string) => Promise<string> = fetchWithTimeout,
): Promise<Cidr> {
  let reply: string;
  try {
    reply = await fetchText(ADDRESS_LOOKUP_URL);
  } catch (e) {
    throw new SettingsError([
      `sshCidrs: not set, and looking up this machine's public address at ${ADDRESS_LOOKUP_URL} failed ` +
        `(${(e as Error).message}); allowed: CIDR blocks that may SSH to the hosts, e.g. ` +
        `pulumi config set --path 'sshCidrs[0]' 203.0.113.7/32`,
    ]);
  }
  const address = parseIpv4(reply);
  if (address === undefined) {
    throw new SettingsError([
      `sshCidrs: not set, and ${ADDRESS_LOOKUP_URL} answered "${reply.trim().slice(0, 40)}", not an IPv4 address; ` +
        `allowed: CIDR blocks that may SSH to the hosts, e.g. pulumi config set --path 'sshCidrs[0]' 203.0.113.7/32`,
    ]);
  }
  return parseCidr(`${address}/32`) as Cidr;
}

async function fetchWithTimeout(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  return response.text();
}

/** The organization Pulumi runs the update in, or undefined when it gives none (mocks, old CLIs). */
function organization(): string | undefined {
  try {
    return pulumi.getOrganization();
  } catch {
    return undefined;
  }
}

/**
 * Reads this stack's own outputs from its previous deployment and throws a SettingsError naming every setting
 * whose change the running cluster cannot take. The StackReference is the only resource registered before
 * this returns, and it only reads: a refused update changes nothing.
 */
export async function refuseUnsafeChanges(next: DeployedSettings): Promise<PreviousDeployment> {
  const stack = pulumi.getStack();
  const project = pulumi.getProject();
  const self = new pulumi.StackReference("deployed-settings", {
    name: selfStackReferenceName(organization(), project, stack),
  });
  const value = (d: pulumi.StackReferenceOutputDetails) => d.value ?? d.secretValue;
  const [recorded, earlier] = await Promise.all([
    self.getOutputDetails(DEPLOYED_SETTINGS_OUTPUT),
    self.getOutputDetails(EARLIER_OUTPUT),
  ]);
  const previous = previousDeployment(value(recorded), value(earlier) !== undefined);
  if (previous.kind === "unknown") {
    void pulumi.log.warn(
      `The settings of this stack's running cluster are unknown: ${previous.reason}. Changes that cannot be ` +
        `rolled over the hosts (README, Changing a running stack) are not checked on this update; this ` +
        `update records them for the next one.`,
    );
    return previous;
  }
  const problems = checkChange(previous.kind === "recorded" ? previous.record : undefined, next);
  if (problems.length > 0) {
    throw new SettingsError(problems);
  }
  return previous;
}

export async function loadConfig(): Promise<StackConfig> {
  const settings = parseSettings(rawSettings());
  const deployedSettings = deployedSettingsRecord(settings, { clusterName: pulumi.getStack() });
  // Before anything else: a refused change must leave the stack exactly as it is.
  const previous = await refuseUnsafeChanges(deployedSettings);
  if (settings.testOnlyAllowUnsupportedActiveMq) {
    void pulumi.log.warn(
      `testOnlyAllowUnsupportedActiveMq is set: ActiveMQ ${settings.activemq.version} is outside the supported ` +
        `versions. This setting exists for test harnesses; never use it for a real stack.`,
    );
  }
  if (settings.testOnlyAllowUnsupportedZookeeper) {
    void pulumi.log.warn(
      `testOnlyAllowUnsupportedZookeeper is set: ZooKeeper ${settings.zookeeper.version} may be below the advisory ` +
        `floors. This setting exists for test harnesses; never use it for a real stack.`,
    );
  }
  const deployedGroups = deployedGroupCount(previous, settings.groups);
  const hostsBefore = previous.kind === "none" ? 0 : deployedGroups * settings.nodeCount;
  const addresses = settings.groups * settings.nodeCount;
  const quotaWarning = elasticIpWarning(addresses, addresses - hostsBefore);
  if (quotaWarning !== undefined) {
    void pulumi.log.warn(quotaWarning);
  }
  const sshCidrs = settings.sshCidrs ?? [await lookupDeployerCidr()];
  const config = new pulumi.Config();
  const sshPrivateKey = config.getSecret("sshPrivateKey");
  const tlsCaKey = config.getSecret("tlsCaKey");
  const tlsNodeKeys = config.getSecret("tlsNodeKeys");
  return {
    settings,
    deployedSettings,
    deployedGroups,
    sshCidrs,
    ...(sshPrivateKey !== undefined ? { sshPrivateKey } : {}),
    ...(tlsCaKey !== undefined ? { tlsCaKey } : {}),
    ...(tlsNodeKeys !== undefined ? { tlsNodeKeys } : {}),
  };
}
