// Proves a gateway and functions built outside the repository's build work together, as an app uses
// them: for each function, GET its /api/negotiate, connect @microsoft/signalr to the gateway with the
// token it handed out (over WebSockets, then long polling), and invoke("echo"). The gateway signs the
// upstream request and the function checks the signature with the key of its connection string, so
// the answer {"echo", "builtWith"} comes back only when both sides agree; builtWith names the build.
//
// Usage: node tests/packaging/chain.mjs GATEWAY_URL FUNCTION_URL,HUB,BUILT_WITH...
// The functions' connection string names the gateway without a port (Endpoint=http://127.0.0.1): they
// start before the gateway, which learns their ports, and a token's audience ignores the port.
import { isDeepStrictEqual } from 'node:util';
import signalR from '@microsoft/signalr';

const [gatewayUrl, ...functions] = process.argv.slice(2);
if (!gatewayUrl || functions.length === 0) {
  console.error('usage: node chain.mjs GATEWAY_URL FUNCTION_URL,HUB,BUILT_WITH...');
  process.exit(2);
}
setTimeout(() => {
  console.error('chain: no answer within 30 s');
  process.exit(1);
}, 30_000).unref();

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function negotiate(functionUrl, hub) {
  const response = await fetch(`${functionUrl}/api/negotiate`, { signal: AbortSignal.timeout(5_000) });
  check(response.status === 200, `${functionUrl}/api/negotiate: status ${response.status}`);
  const body = await response.json();
  check(body.url === `http://127.0.0.1/client/?hub=${hub}`, `negotiate url ${JSON.stringify(body.url)}`);
  check(/^[\w-]+\.[\w-]+\.[\w-]+$/.test(body.accessToken ?? ''), 'negotiate: no JWT in accessToken');
  return body.accessToken;
}

async function echo(hub, token, transport, builtWith) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${gatewayUrl}/client/?hub=${hub}`, { accessTokenFactory: () => token, transport })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  await connection.start();
  try {
    const sent = { text: 'héllo', n: 42, transport: signalR.HttpTransportType[transport] };
    const answer = await connection.invoke('echo', sent);
    const expected = { echo: sent, builtWith };
    check(isDeepStrictEqual(answer, expected),
      `echo on ${hub}: got ${JSON.stringify(answer)}, expected ${JSON.stringify(expected)}`);
  } finally {
    await connection.stop();
  }
}

try {
  for (const spec of functions) {
    const [functionUrl, hub, builtWith] = spec.split(',');
    const token = await negotiate(functionUrl, hub);
    for (const transport of [signalR.HttpTransportType.WebSockets, signalR.HttpTransportType.LongPolling]) {
      await echo(hub, token, transport, builtWith);
    }
    console.log(`chain: ${builtWith} function on hub ${hub}: negotiate, WebSockets and long-polling echo ok`);
  }
} catch (err) {
  console.error(`chain: ${err.message}`);
  process.exit(1);
}
