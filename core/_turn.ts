/**
 * The event-loop budget every driver shares: synchronous work that runs inside
 * promises (page-cached reads and writes) may hold the thread for at most
 * {@linkcode TURN_BUDGET_MS} before the next operation waits for a macrotask,
 * so timers and I/O callbacks run even while a caller awaits a long loop of
 * already-resolved operations.
 *
 * How it knows the loop turned: the first operation after a turn schedules one
 * macrotask (`setImmediate`, or a `MessageChannel` message where there is
 * none). If the loop is free, that task runs soon and starts a new budget; if
 * the caller's awaits keep the microtask queue busy, the task cannot run, the
 * budget runs out, and the next operation awaits that same task. One task
 * serves every waiting caller, so concurrent loops share one yield instead of
 * each taking its own slice of the turn.
 *
 * @module
 */

/**
 * How long synchronous work may run before operations yield, in milliseconds.
 * Deno fires a 1 ms interval about every 2 ms; 3 ms keeps a timer's gap under
 * 10 ms there with room to spare.
 */
const TURN_BUDGET_MS = 3;

/**
 * Reading the clock costs 50–150 ns (Deno's `performance.now()` is the
 * slowest), a tenth of a page-cached 4 KiB read: it is read once per this many
 * credits, where an operation costs one credit plus one per 32 KiB it moves.
 */
const CREDITS = 8;

type Schedule = (task: () => void) => void;

/** The slice of the DOM's `MessageChannel` used where there is no `setImmediate`. */
interface Channel {
  port1: { onmessage: (() => void) | null };
  port2: { postMessage(message: unknown): void };
}

const schedule: Schedule = (() => {
  const g = globalThis as unknown as {
    setImmediate?: (task: () => void) => unknown;
    MessageChannel?: new () => Channel;
  };
  if (typeof g.setImmediate === "function") {
    const setImmediate = g.setImmediate;
    return (task) => void setImmediate(task);
  }
  if (g.MessageChannel === undefined) return (task) => void setTimeout(task, 0);
  // Browsers: a message on a channel is a macrotask, unthrottled (unlike setTimeout).
  const channel = new g.MessageChannel();
  let pending: (() => void) | undefined;
  channel.port1.onmessage = () => {
    const task = pending;
    pending = undefined;
    task?.();
  };
  return (task) => {
    pending = task;
    channel.port2.postMessage(0);
  };
})();

/** When the current run of synchronous work started, or -1 if a turn just happened. */
let runStart = -1;
/** The scheduled turn, and the promise that waiters share. */
let turn: Promise<void> | undefined;
let resolveTurn: (() => void) | undefined;
let scheduled = false;
/** Operations left before the clock is read again. */
let credits = 0;

function onTurn(): void {
  scheduled = false;
  runStart = -1;
  credits = 0;
  const resolve = resolveTurn;
  turn = undefined;
  resolveTurn = undefined;
  resolve?.();
}

/**
 * Call before each synchronous piece of work of `bytes` bytes. Returns
 * `undefined` while the budget lasts (go on synchronously), or a promise to
 * await first: the next macrotask, shared by every caller that waits.
 */
export function spendTurn(bytes: number): Promise<void> | undefined {
  // Once one operation waits, every later one waits behind it: call order holds.
  if (turn !== undefined) return turn;
  credits -= bytes < 32768 ? 1 : 1 + bytes / 32768;
  if (credits > 0) return undefined;
  credits = CREDITS;
  const now = performance.now();
  if (runStart < 0) {
    runStart = now;
    if (!scheduled) {
      scheduled = true;
      schedule(onTurn);
    }
    return undefined;
  }
  if (now - runStart < TURN_BUDGET_MS) return undefined;
  if (turn === undefined) turn = new Promise<void>((resolve) => resolveTurn = resolve);
  return turn;
}
