// The host: fit to provision, and a JDK. Pure.
import { PlanStep } from "./types";
import { JDK_PACKAGE } from "../versions";
import { PlanContext, step, stepId } from "./context";

export function hostSteps(ctx: PlanContext): PlanStep[] {
  return ctx.nodes.flatMap((n) => [
    step({
      id: stepId(n, "host-ready"),
      node: n,
      action: "host-ready",
      script: "host-ready.sh",
      description: "wait for SSH and cloud-init, check sudo and systemd",
      dependsOn: [],
      rerunWith: [],
      waitsForBoot: true,
      timeoutMinutes: 15,
      input: () => ({ inputs: {}, files: [] }),
    }),
    step({
      id: stepId(n, "jdk"),
      node: n,
      action: "jdk",
      script: "install-jdk.sh",
      description: `install ${JDK_PACKAGE} unless a JDK 17 is present`,
      dependsOn: [stepId(n, "host-ready")],
      rerunWith: [],
      timeoutMinutes: 15,
      input: () => ({ inputs: { JDK_PACKAGE, JDK_MAJOR: "17" }, files: [] }),
    }),
  ]);
}
