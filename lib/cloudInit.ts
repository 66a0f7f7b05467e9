// The user data every instance boots with: cloud-init installs the host key that the stack made for that node, so
// the provisioning can verify the host (connection.hostKey) from its very first connection, and a replaced
// instance presents the same key as the one it replaces. Pure.

/** A cloud-config that replaces the image's host keys with the given ED25519 pair and makes no others. */
export function renderHostKeyCloudConfig(privateKeyOpenssh: string, publicKeyOpenssh: string): string {
  const privateLines = privateKeyOpenssh.trim().split("\n");
  if (!/^ssh-ed25519 [A-Za-z0-9+/=]+( .*)?$/.test(publicKeyOpenssh.trim())) {
    throw new Error("the host key must be an OpenSSH ssh-ed25519 public key line");
  }
  return [
    "#cloud-config",
    "# Host keys come from the stack (a Pulumi secret), not from the first boot: see README, Security defaults.",
    "ssh_deletekeys: true",
    "ssh_genkeytypes: []",
    "ssh_keys:",
    "  ed25519_private: |",
    ...privateLines.map((line) => `    ${line}`),
    `  ed25519_public: ${publicKeyOpenssh.trim()}`,
    "",
  ].join("\n");
}
