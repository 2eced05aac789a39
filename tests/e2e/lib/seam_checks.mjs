// The checks a fleet test makes after moving stateful clients between gateways (a rolling restart, a
// crash): every REST send accepted; for every client and stream nothing lost, duplicated or reordered;
// every connection id kept (no onreconnecting, no onreconnected); one `connected` per client and no
// `disconnected` at the function. Each failed check is collected, not thrown, so that a test reports
// them all together (`findings`), with `check` for its own.
//
// members: [{user, id, c (the HubConnection), home (a name), streams (recordStreams), reconnecting,
// reconnectedIds}]; expectedOf(member): [[stream, numbers accepted by the senders]]; senders: the
// startNumberedSender()s; events: the function's event log.

import assert from 'node:assert/strict';
import { lostRanges, tally } from './delivery_counter.mjs';

export function seamChecks({ members, expectedOf, senders, events }) {
  const findings = [];
  const check = (what, fn) => {
    try {
      fn();
    } catch (err) {
      findings.push(`✗ ${what}: ${err.message}`);
    }
  };

  check('every REST send through the balancer was accepted (202)', () => {
    const failures = senders.flatMap((s) => s.failures);
    const sent = senders.reduce((n, s) => n + s.sent, 0);
    assert.equal(failures.length, 0, `${failures.length} of ${sent} failed: ${JSON.stringify(failures.slice(0, 5))}`);
  });

  const rows = [];
  const totals = { lost: 0, duplicated: 0, reordered: 0, unexpected: 0 };
  for (const m of members) {
    for (const [stream, expected] of expectedOf(m)) {
      const received = m.streams.get(stream) ?? [];
      const counts = tally(received, expected);
      for (const k of Object.keys(totals)) totals[k] += counts[k];
      if (counts.lost || counts.duplicated || counts.reordered || counts.unexpected) {
        rows.push(`  ${m.user} ${stream}: expected ${counts.expected} received ${counts.received} lost ${counts.lost} ` +
          `duplicated ${counts.duplicated} reordered ${counts.reordered} unexpected ${counts.unexpected}` +
          (counts.lost ? ` (lost ${lostRanges(received, expected)})` : ''));
      }
    }
  }
  check('for every client and stream: lost 0, duplicated 0, reordered 0', () => {
    assert.equal(rows.length, 0, `${rows.length} client streams wrong; totals ${JSON.stringify(totals)}\n${rows.join('\n')}`);
  });

  check('every client kept its connection id (no onreconnecting, no onreconnected)', () => {
    const changed = members.filter((m) => m.c.connectionId !== m.id || m.reconnecting.length || m.reconnectedIds.length);
    assert.equal(changed.length, 0, `${changed.length} of ${members.length} clients:\n` + changed.map((m) =>
      `  ${m.user} (started on ${m.home}): ${m.id} → ${m.c.connectionId ?? '(none)'}, onreconnecting ×${m.reconnecting.length}` +
      ` (${[...new Set(m.reconnecting)].join(' | ')}), onreconnected ×${m.reconnectedIds.length}`).join('\n'));
  });

  check('the function saw one `connected` per client and no `disconnected` during the run', () => {
    const odd = [];
    for (const m of members) {
      const mine = events.filter((e) => e.userId === m.user);
      const connected = mine.filter((e) => e.event === 'connected');
      const disconnected = mine.filter((e) => e.event === 'disconnected');
      if (connected.length !== 1 || connected[0].connectionId !== m.id || disconnected.length !== 0)
        odd.push(`  ${m.user}: connected ×${connected.length}, disconnected ×${disconnected.length}`);
    }
    assert.equal(odd.length, 0, `${odd.length} of ${members.length} users:\n${odd.join('\n')}`);
  });

  return { findings, check, totals };
}
