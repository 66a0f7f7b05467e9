// Runs the program under Pulumi's mocks (no cloud, no CLI) and prints every resource it would create, by type
// and name, and the stack outputs for the mocked addresses. Usage: npx tsx scripts/dev/mock-preview.ts [key=value ...]
import { runStack } from "../../test/support/mocks";

async function main() {
  const raw = Object.fromEntries(
    process.argv.slice(2).map((a) => a.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const run = await runStack(raw);
  const counts = new Map<string, number>();
  console.log(`resources (${run.resources.length}):`);
  for (const r of [...run.resources].sort((a, b) => (a.type + a.name).localeCompare(b.type + b.name))) {
    console.log(`  ${r.type}  ${r.name}`);
    counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  }
  console.log("by type:");
  for (const [type, n] of [...counts].sort()) {
    console.log(`  ${String(n).padStart(3)}  ${type}`);
  }
  console.log("outputs:");
  console.log(`  failoverUrl: ${run.outputs.failoverUrl}`);
  console.log(`  publicFailoverUrl: ${run.outputs.publicFailoverUrl}`);
  console.log(`  zookeeperConnect: ${run.outputs.zookeeperConnect}`);
  console.log(`  nodes: ${JSON.stringify(run.outputs.nodes)}`);
  console.log(
    `  sshUser: ${run.cluster.sshUser}; brokerUser: ${run.cluster.brokerUser}; consoleUser: ${run.cluster.consoleUser}`,
  );
  console.log("  sshPrivateKey, brokerPassword, consolePassword: [secret]");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
