/**
 * The workload harness's measured loop and its event-loop lag probe: a 1 ms
 * `setInterval` that records the gaps between its callbacks while a workload
 * runs. On an idle loop a gap is about 1 ms; a gap of 50 ms means nothing else
 * (a timer, a socket, a Ctrl-C) could run for 50 ms.
 *
 * @module
 */

/** Event-loop lag seen while a probe ran, in milliseconds. */
export interface Lag {
  /** The longest gap between two callbacks (or from the last one to the stop). */
  lagMaxMs: number;
  /** The 99th percentile of the gaps. */
  lagP99Ms: number;
}

/** A running probe: {@linkcode LagProbe.stop} clears the interval and reports. */
export interface LagProbe {
  /** Clears the interval; the gap still open at this moment counts too. */
  stop(): Lag;
}

/**
 * Starts a 1 ms `setInterval` that records the gaps between its callbacks.
 *
 * @returns The probe; call `stop()` when the workload is done.
 */
export function startLagProbe(): LagProbe {
  const gaps: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      // A stall that lasts to the end of the run is a gap as well.
      gaps.push(performance.now() - last);
      const sorted = Float64Array.from(gaps).sort();
      const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0;
      return { lagMaxMs: sorted[sorted.length - 1] ?? 0, lagP99Ms: p99 };
    },
  };
}

/**
 * The measured phase of a run: `inflight` workers of `op` for `durationMs`,
 * with the lag probe on. Every worker finishes before it returns; then the
 * first failure is thrown.
 *
 * @param op Builds worker `w`'s step, which does one operation.
 * @param o Workers, and how long they run.
 * @param progress Called about once a second with the operations done so far.
 * @param between Called before each operation, outside its latency; returns
 *   the milliseconds it spent, which do not count as running time.
 * @returns Operations done, seconds taken, sorted latencies (µs), and the lag.
 */
export async function measure(
  op: (worker: number) => () => Promise<unknown>,
  o: { inflight: number; durationMs: number },
  progress?: (done: number, elapsedMs: number) => void,
  between?: () => number,
): Promise<{ done: number; elapsed: number; sorted: Float64Array; lag: Lag }> {
  const latencies: number[] = [];
  const probe = startLagProbe();
  const start = performance.now();
  const end = start + o.durationMs;
  let done = 0;
  let lastReport = start;
  let spent = 0; // ms in `between`
  // Set while the workers step out to the event loop: all of them wait on it.
  let pause: Promise<void> | undefined;
  const worker = async (id: number) => {
    const step = op(id);
    while (performance.now() < end) {
      if (pause !== undefined) await pause;
      if (between !== undefined) spent += between();
      const t = performance.now();
      await step();
      const now = performance.now();
      latencies.push((now - t) * 1000);
      done++;
      if (now - lastReport >= 250) {
        // Page-cached I/O may resolve at once, so these loops might never reach the
        // event loop: step out now and then for progress output and Ctrl-C. Every
        // worker waits, or the others would keep the microtask queue from draining.
        if (
          progress && Math.floor((now - start) / 1000) > Math.floor((lastReport - start) / 1000)
        ) {
          progress(done, now - start);
        }
        lastReport = now;
        pause ??= new Promise((resolve) =>
          setTimeout(() => {
            pause = undefined;
            resolve();
          }, 0)
        );
      }
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: o.inflight }, (_, i) => worker(i)),
  );
  const elapsed = (performance.now() - start - spent) / 1000;
  const lag = probe.stop();
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return { done, elapsed, sorted: Float64Array.from(latencies).sort(), lag };
}
