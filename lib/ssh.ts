/**
 * OpenSSH client options that verify the host before anything is sent: the key must be in `knownHostsFile` (and,
 * with `hostKey`, be of that key's algorithm, so a host offering another algorithm cannot slip past the pinned
 * key), never in the machine's global files; no prompts. Used by `npm run status` and the box's test client,
 * which both pin the key the stack reports (output nodes[].hostKey), as remote.Command's connection.hostKey does.
 */
export interface PinnedHostOptions {
  /** The known_hosts file holding the host's key (see {@link knownHostsLine}). */
  readonly knownHostsFile: string;
  /** The host's OpenSSH public key line (`ssh-ed25519 AAAA…`), when the caller pins one key. */
  readonly hostKey?: string;
  /** Seconds to wait for the TCP connection: a dead host costs this much. */
  readonly connectTimeoutS: number;
}

export function pinnedHostOptions(options: PinnedHostOptions): string[] {
  const algorithm = options.hostKey?.trim().split(/\s+/)[0];
  return [
    ...["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"],
    ...["-o", `UserKnownHostsFile=${options.knownHostsFile}`, "-o", "GlobalKnownHostsFile=/dev/null"],
    ...["-o", "LogLevel=ERROR", "-o", `ConnectTimeout=${options.connectTimeoutS}`],
    ...(algorithm ? ["-o", `HostKeyAlgorithms=${algorithm}`] : []),
  ];
}

/** One known_hosts line that trusts `hostKey` for `address` and nothing else. */
export function knownHostsLine(address: string, hostKey: string): string {
  return `${address} ${hostKey.trim()}\n`;
}
