// shared-kahadb's store: the shared file system, mounted before any broker can start. (Replicated LevelDB's store
// is each broker's own directory and needs no step.) Pure.
import { ClusterFacts } from "../facts";
import { ACTIVEMQ, SHARED_STORE } from "../layout";
import { PlanStep } from "./types";
import { renderSharedMountUnit } from "../render/storage";
import { managed, PlanContext, step, stepId } from "./context";

export function storeSteps(ctx: PlanContext): PlanStep[] {
  if (ctx.settings.haMode !== "shared-kahadb") {
    return [];
  }
  return ctx.nodes.map((n) =>
    step({
      id: stepId(n, "shared-mount"),
      node: n,
      action: "shared-mount",
      script: "shared-mount.sh",
      description: "mount the shared file system (NFS 4.1) before any broker can start",
      dependsOn: [stepId(n, "host-ready")],
      rerunWith: [],
      timeoutMinutes: 10,
      input: (facts) => ({
        inputs: {
          MOUNT_POINT: SHARED_STORE.mountPoint,
          MOUNT_UNIT: SHARED_STORE.mountUnit,
          KAHADB_DIR: SHARED_STORE.kahaDbDir,
          ACTIVEMQ_USER: ACTIVEMQ.user,
          ACTIVEMQ_DATA_DIR: ACTIVEMQ.dataDir,
        },
        files: [
          managed(
            `/etc/systemd/system/${SHARED_STORE.mountUnit}`,
            renderSharedMountUnit(sharedStoreHost(facts)),
            "root",
            "root",
            "0644",
          ),
        ],
      }),
    }),
  );
}

function sharedStoreHost(facts: ClusterFacts): string {
  if (!facts.sharedStoreHost) {
    throw new Error("haMode shared-kahadb needs the shared file system's address");
  }
  return facts.sharedStoreHost;
}
