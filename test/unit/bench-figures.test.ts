import { describe, it } from "node:test";
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";

import {
  goals,
  ModeFigures,
  pauses,
  quantile,
  renderGoals,
  renderTable,
  steadySend,
} from "../bench/lib/figures";

const send = (perSecond: number, p50Ms: number, p99Ms: number) => ({
  messages: 1000,
  perSecond,
  p50Ms,
  p99Ms,
});

function mode(overrides: Partial<ModeFigures>): ModeFigures {
  return {
    mode: "replicated-leveldb",
    activemqVersion: "5.16.8",
    firstDeploySeconds: 60,
    oneHostSeconds: 50,
    cluster: send(300, 3, 20),
    singleKahaDb: send(1200, 1, 2),
    failoverMs: Array.from({ length: 20 }, (_, i) => 2000 + i * 100),
    acknowledged: 5000,
    lost: 1,
    duplicated: 2,
    ...overrides,
  };
}

void describe("quantile (nearest rank)", () => {
  void it("picks the smallest value with at least q of the sample at or below it", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    equal(quantile(sorted, 0.5), 5);
    equal(quantile(sorted, 0.99), 10);
    equal(quantile(sorted, 0.1), 1);
    equal(quantile(sorted, 0), 1);
    equal(quantile(sorted, 1), 10);
    ok(Number.isNaN(quantile([], 0.5)));
  });

  void it("always returns a member of the sample, never below a smaller quantile's", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, a, b) => {
          const sorted = [...values].sort((x, y) => x - y);
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          ok(sorted.includes(quantile(sorted, lo)));
          ok(quantile(sorted, lo) <= quantile(sorted, hi));
        },
      ),
    );
  });
});

void describe("steadySend", () => {
  void it("takes the rate over the acknowledgements' span and the latency from the gaps between them", () => {
    // 11 acks over 1 s: gaps of 50 ms, but one of 500 ms.
    const at = [0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 950];
    const figures = steadySend(at.map((t, i) => ({ seq: i + 1, at: 10_000 + t })));
    deepEqual(figures, { messages: 11, perSecond: 10 / 0.95, p50Ms: 50, p99Ms: 500 });
  });

  void it("has no rate with fewer than two acknowledgements", () => {
    equal(steadySend([{ seq: 1, at: 5 }]).perSecond, 0);
  });
});

void describe("pauses", () => {
  void it("counts only measured rounds and reports seconds", () => {
    deepEqual(pauses([4000, null, 2000, 3000]), { count: 3, medianSeconds: 3, worstSeconds: 4 });
  });
});

void describe("the benchmark's table and goals", () => {
  void it("renders one row per mode with every ratio", () => {
    const table = renderTable([mode({})]).split("\n");
    equal(table.length, 3);
    equal(
      table[2],
      "| replicated-leveldb | 5.16.8 | 2.90 / 3.90 | 20 | 5000 / 1 / 2 | 300 (3/20) | 1200 (1/2) | 0.25 | 60.0 | 50.0 | 1.20 |",
    );
  });

  void it("holds each goal against its bound, and fewer than 20 power-offs meet no failover goal", () => {
    const replicated = goals([mode({})]);
    deepEqual(
      replicated.map((g) => g.met),
      [true, false, true],
    );
    equal(replicated[1]?.measured, "0.25× (300 against 1200 msg/s)");

    const kaha = goals([
      mode({
        mode: "shared-kahadb",
        failoverMs: Array.from({ length: 20 }, () => 3100),
        firstDeploySeconds: 75,
      }),
    ]);
    deepEqual(
      kaha.map((g) => [g.goal, g.met]),
      [
        ["shared-kahadb failover: median ≤ 3 s and worst ≤ 4 s over 20 power-offs", false],
        ["shared-kahadb first deploy ≤ 1.5× one host's own steps", true],
      ],
    );

    const few = goals([mode({ failoverMs: [1000, 1000] })]);
    equal(few[0]?.met, false);
    ok(renderGoals(few).startsWith("NOT met  replicated-leveldb failover"));
  });
});
