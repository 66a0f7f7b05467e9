// Reads the stack's configuration once, validates all of it (lib/settings.ts) and resolves the one default that
// needs the network: who may SSH in. Components never read pulumi.Config themselves.
import * as pulumi from "@pulumi/pulumi";
import { Cidr, parseCidr, parseIpv4 } from "./lib/net";
import { parseSettings, RawSettings, SettingsError, StackSettings } from "./lib/settings";

export interface StackConfig {
  readonly settings: StackSettings;
  readonly sshCidrs: readonly Cidr[];
  readonly sshPrivateKey?: pulumi.Output<string>;
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

export async function loadConfig(): Promise<StackConfig> {
  const settings = parseSettings(rawSettings());
  if (settings.testOnlyAllowUnsupportedActiveMq) {
    void pulumi.log.warn(
      `testOnlyAllowUnsupportedActiveMq is set: ActiveMQ ${settings.activemq.version} is outside the supported ` +
        `versions. This setting exists for test harnesses; never use it for a real stack.`,
    );
  }
  const sshCidrs = settings.sshCidrs ?? [await lookupDeployerCidr()];
  const sshPrivateKey = new pulumi.Config().getSecret("sshPrivateKey");
  return { settings, sshCidrs, ...(sshPrivateKey !== undefined ? { sshPrivateKey } : {}) };
}
