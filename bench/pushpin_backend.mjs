// pushpin_backend.mjs: the tiny backend behind Pushpin in the benchmarks (WebSocket-over-HTTP).
//
// Pushpin turns each client WebSocket into HTTP POSTs of "application/websocket-events". On OPEN we
// accept and subscribe the connection to the channel named by ?channel= (GRIP control message);
// every other event is acknowledged with an empty body. Stateless, like the backend in Pushpin's docs.
//
// Usage: node bench/pushpin_backend.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2] || 7998);

// One WebSocket event in the body format: "TYPE[ hexlen]\r\n[content\r\n]".
function textEvent(content) {
  return `TEXT ${Buffer.byteLength(content).toString(16)}\r\n${content}\r\n`;
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const headers = { 'Content-Type': 'application/websocket-events' };
    let reply = '';
    if (body.startsWith('OPEN')) {
      const channel = new URL(req.url, 'http://backend').searchParams.get('channel') || 'all';
      headers['Sec-WebSocket-Extensions'] = 'grip';
      reply = 'OPEN\r\n' + textEvent('c:' + JSON.stringify({ type: 'subscribe', channel }));
    } else if (body.startsWith('CLOSE')) {
      reply = 'CLOSE\r\n';
    }
    res.writeHead(200, headers);
    res.end(reply);
  });
}).listen(port, '127.0.0.1', () => console.log(`pushpin backend on http://127.0.0.1:${port}`));
