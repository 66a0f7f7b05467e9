// The ZooKeeper ensemble: install, configure one host at a time (the leader's restart deferred), settle, gate.
// Pure.
import { PlanStep } from "./types";
import { ZOOKEEPER, zookeeperHome } from "../layout";
import { renderZookeeperUnit } from "../render/services";
import { renderMyid, renderZooCfg } from "../render/zookeeper";
import { releaseInputs } from "./artifacts";
import { afterPreviousNode, managed, nodeOf, PlanContext, settleAndGate, step, stepId } from "./context";

export function zookeeperSteps(ctx: PlanContext): PlanStep[] {
  const s = ctx.settings;
  if (!s.zookeeper.deploy) {
    return [];
  }
  const install = ctx.nodes.map((n) =>
    step({
      id: stepId(n, "zookeeper-install"),
      node: n,
      action: "zookeeper-install",
      script: "install-artifact.sh",
      description: `download, verify (digest and signature) and unpack ZooKeeper ${s.zookeeper.version}`,
      dependsOn: [stepId(n, "jdk")],
      rerunWith: [],
      timeoutMinutes: 15,
      input: () => ({
        inputs: releaseInputs(s, "zookeeper", zookeeperHome(s.zookeeper.version), ZOOKEEPER.link),
        files: [],
      }),
    }),
  );
  const configure = ctx.nodes.map((n) =>
    step({
      id: stepId(n, "zookeeper-configure"),
      node: n,
      action: "zookeeper-configure",
      script: "zookeeper-configure.sh",
      description: "render zoo.cfg, myid and the unit; start, or restart if changed (the leader waits)",
      // One host at a time, so a change never takes the ensemble down at once.
      dependsOn: [stepId(n, "zookeeper-install"), ...afterPreviousNode(ctx, n, "zookeeper-configure")],
      rerunWith: [stepId(n, "zookeeper-install")],
      timeoutMinutes: 10,
      input: (facts) => ({
        inputs: {
          ZOOKEEPER_CLIENT_PORT: String(s.ports.zookeeperClient),
          ZOOKEEPER_USER: ZOOKEEPER.user,
          ZOOKEEPER_CONF_DIR: ZOOKEEPER.confDir,
          ZOOKEEPER_DATA_DIR: ZOOKEEPER.dataDir,
          ZOOKEEPER_TXLOG_DIR: ZOOKEEPER.dataLogDir,
          ZOOKEEPER_LOG_DIR: ZOOKEEPER.logDir,
        },
        files: [
          managed(ZOOKEEPER.config, renderZooCfg(s, facts.nodes), "root", ZOOKEEPER.user, "0644"),
          managed(
            `${ZOOKEEPER.dataDir}/myid`,
            renderMyid(nodeOf(facts, n)),
            ZOOKEEPER.user,
            ZOOKEEPER.user,
            "0644",
          ),
          managed(`/etc/systemd/system/${ZOOKEEPER.unit}`, renderZookeeperUnit(s), "root", "root", "0644"),
        ],
      }),
    }),
  );
  return [
    ...install,
    ...configure,
    ...settleAndGate(ctx, {
      service: "zookeeper",
      settleScript: "zookeeper-settle.sh",
      gateScript: "zookeeper-gate.sh",
      gateDescription: "readiness gate: every ZooKeeper answers, exactly one leader",
      inputs: () => ({ ZOOKEEPER_CLIENT_PORT: String(s.ports.zookeeperClient) }),
    }),
  ];
}
