import { describe, it } from "node:test";
import { deepEqual, equal } from "node:assert/strict";

import { analyze } from "../e2e/lib/failover-figures";

void describe("analyze", () => {
  void it("measures each kill from the last ack before it to the first ack after it", () => {
    const acked = [
      { seq: 1, at: 1000 },
      { seq: 2, at: 1010 },
      { seq: 3, at: 1020 },
      // kill at 1025
      { seq: 4, at: 4020 },
      { seq: 5, at: 4030 },
      // kill at 5000
      { seq: 6, at: 7500 },
    ];
    const figures = analyze(acked, [1, 2, 3, 4, 5, 6], [1025, 5000]);
    deepEqual(figures, {
      rounds: [
        { killAt: 1025, lastAckBefore: 1020, firstAckAfter: 4020, failoverMs: 3000 },
        { killAt: 5000, lastAckBefore: 4030, firstAckAfter: 7500, failoverMs: 3470 },
      ],
      acknowledged: 6,
      received: 6,
      lost: [],
      duplicated: [],
    });
  });

  void it("reports acknowledged seqs that never arrived and seqs that arrived twice", () => {
    const acked = [
      { seq: 1, at: 100 },
      { seq: 2, at: 110 },
      { seq: 3, at: 120 },
      { seq: 4, at: 2120 },
      { seq: 5, at: 2130 },
    ];
    // 3 was acknowledged but lost; 4 was delivered twice (once from ActiveMQ.DLQ);
    // 9 was received without an acknowledgement (a send in flight at the stop)
    const figures = analyze(acked, [5, 1, 4, 2, 4, 9], [125]);
    deepEqual(figures.lost, [3]);
    deepEqual(figures.duplicated, [4]);
    equal(figures.acknowledged, 5);
    equal(figures.received, 6);
    deepEqual(figures.rounds, [{ killAt: 125, lastAckBefore: 120, firstAckAfter: 2120, failoverMs: 2000 }]);
  });

  void it("does not depend on the order of the acknowledgements", () => {
    const acked = [
      { seq: 3, at: 300 },
      { seq: 1, at: 100 },
      { seq: 4, at: 900 },
      { seq: 2, at: 200 },
    ];
    const figures = analyze(acked, [4, 3, 2, 1], [250]);
    deepEqual(figures.rounds, [{ killAt: 250, lastAckBefore: 200, firstAckAfter: 300, failoverMs: 100 }]);
    deepEqual(figures.lost, []);
  });

  void it("counts an ack at the very millisecond of the kill as before it", () => {
    const acked = [
      { seq: 1, at: 500 },
      { seq: 2, at: 800 },
    ];
    deepEqual(analyze(acked, [1, 2], [500]).rounds, [
      { killAt: 500, lastAckBefore: 500, firstAckAfter: 800, failoverMs: 300 },
    ]);
  });

  void it("leaves failoverMs null when no ack precedes or follows a kill", () => {
    const acked = [
      { seq: 1, at: 1000 },
      { seq: 2, at: 1100 },
    ];
    const figures = analyze(acked, [1, 2], [900, 1200]);
    deepEqual(figures.rounds, [
      { killAt: 900, lastAckBefore: null, firstAckAfter: 1000, failoverMs: null },
      { killAt: 1200, lastAckBefore: 1100, firstAckAfter: null, failoverMs: null },
    ]);
  });

  void it("handles an empty run", () => {
    deepEqual(analyze([], [], []), {
      rounds: [],
      acknowledged: 0,
      received: 0,
      lost: [],
      duplicated: [],
    });
    deepEqual(analyze([], [], [42]).rounds, [
      { killAt: 42, lastAckBefore: null, firstAckAfter: null, failoverMs: null },
    ]);
  });

  void it("lists every lost and duplicated seq once, ascending", () => {
    const acked = [10, 7, 3, 8, 1].map((seq) => ({ seq, at: seq * 10 }));
    const figures = analyze(acked, [8, 8, 8, 1, 1, 2, 2], []);
    deepEqual(figures.lost, [3, 7, 10]);
    deepEqual(figures.duplicated, [1, 2, 8]);
    equal(figures.acknowledged, 5);
    equal(figures.received, 7);
  });
});
