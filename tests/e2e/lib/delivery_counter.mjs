// Counting deliveries of numbered streams, for tests where messages must survive something (a restart,
// a cut): each message is an invocation `target(stream, number)`; a sender numbers each stream 0, 1, 2…
// and remembers which numbers the gateway accepted; each client records what arrived per stream; tally()
// compares the two.
//
// A stream is one sender's sequence to one recipient set (a group, a user), so its numbers must arrive
// once each, in order: order is promised per sender (docs/scaling.md).

import { rest, seg } from './rest.mjs';

/**
 * Records every `target(stream, number)` on `connection`: a Map from stream name to the numbers in
 * arrival order. Subscribe before the first message can arrive.
 */
export function recordStreams(connection, target) {
  const streams = new Map();
  connection.on(target, (stream, number) => {
    if (!streams.has(stream)) streams.set(stream, []);
    streams.get(stream).push(number);
  });
  return streams;
}

/**
 * Compares the numbers a client received on one stream with those the gateway accepted (`expected`,
 * ascending). lost: accepted and never received; duplicated: received more than once (extra copies);
 * reordered: a number arriving after a higher one; unexpected: received but not accepted (a send
 * that failed yet was delivered).
 */
export function tally(received = [], expected = []) {
  const expectedSet = new Set(expected);
  const distinct = new Set(received);
  let lost = 0;
  for (const n of expected) if (!distinct.has(n)) lost += 1;
  let unexpected = 0;
  for (const n of distinct) if (!expectedSet.has(n)) unexpected += 1;
  let reordered = 0;
  for (let i = 1; i < received.length; i += 1) if (received[i] < received[i - 1]) reordered += 1;
  return { expected: expected.length, received: received.length, lost, duplicated: received.length - distinct.size, reordered, unexpected };
}

/** The first few lost numbers (for a failure message), as ranges: "12-15, 40". */
export function lostRanges(received = [], expected = [], limit = 6) {
  const have = new Set(received);
  const ranges = [];
  for (const n of expected) {
    if (have.has(n)) continue;
    const last = ranges.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else ranges.push([n, n]);
  }
  const shown = ranges.slice(0, limit).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
  if (ranges.length > limit) shown.push(`… (${ranges.length - limit} more)`);
  return shown.join(', ');
}

/**
 * Sends numbered messages through the REST API of `stack` ({gatewayUrl, key}: a gateway or a balancer
 * in front of several), one request at a time and each awaited, paced to `perSecond`. `route(i)` gives
 * the i-th message's recipient: {stream, path} (path e.g. `/api/v1/hubs/e2e/groups/room`); each stream
 * is numbered on its own. A send answered with anything but 202, or failing, is recorded in
 * `failures` and its number is not in `accepted`.
 *
 * Returns {accepted (Map stream → accepted numbers, ascending), failures, sent (requests so far),
 * next(stream) (the number the stream's next message will get), inFlight (the current request,
 * settled when it got its answer), stop() (resolves after the last request was answered)}.
 */
export function startNumberedSender(stack, { target, perSecond, route }) {
  const accepted = new Map();
  const numbers = new Map();
  const failures = [];
  let sent = 0;
  let stopped = false;
  let inFlight = Promise.resolve();
  let wake;

  async function sendOne(stream, path, number) {
    try {
      const res = await rest(stack, 'POST', path, { json: { target, arguments: [stream, number] } });
      if (res.status === 202) {
        if (!accepted.has(stream)) accepted.set(stream, []);
        accepted.get(stream).push(number);
      } else {
        failures.push({ stream, number, status: res.status, text: res.text.slice(0, 200) });
      }
    } catch (err) {
      failures.push({ stream, number, error: err.message });
    }
  }

  const loop = (async () => {
    const intervalMs = 1000 / perSecond;
    let due = performance.now();
    while (!stopped) {
      const { stream, path } = route(sent);
      const number = numbers.get(stream) ?? 0;
      numbers.set(stream, number + 1);
      sent += 1;
      inFlight = sendOne(stream, path, number);
      await inFlight;
      // Pacing only: the next send is due one interval after the previous one was due; a late answer
      // shortens the pause but never causes a burst of catch-up sends.
      due = Math.max(due + intervalMs, performance.now());
      const pause = due - performance.now();
      if (pause > 0 && !stopped) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, pause);
          wake = () => { clearTimeout(timer); resolve(); };
        });
        wake = undefined;
      }
    }
  })();

  return {
    accepted,
    failures,
    get sent() { return sent; },
    next: (stream) => numbers.get(stream) ?? 0,
    get inFlight() { return inFlight; },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

/** The REST path of a group send on hub `hub`. */
export const groupPath = (group, hub = 'e2e') => `/api/v1/hubs/${seg(hub)}/groups/${seg(group)}`;
/** The REST path of a user send on hub `hub`. */
export const userPath = (user, hub = 'e2e') => `/api/v1/hubs/${seg(hub)}/users/${seg(user)}`;
