// An OTLP/HTTP JSON collector for bench/tracing.sh: takes every batch and counts its spans without
// parsing it (it shares the load core with wsload and the function: it must cost next to nothing).
// Usage: node bench/otlp_sink.mjs PORT; GET /stats answers {"batches","spans","bytes"}.
import http from 'node:http';

let batches = 0;
let spans = 0;
let bytes = 0;
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') return res.end(JSON.stringify({ batches, spans, bytes }));
  batches += 1;
  req.on('data', (chunk) => {
    bytes += chunk.length;
    // Each span has one "spanId" key ("parentSpanId" has a capital S); a key split across two chunks
    // is missed, which only makes the count a little low.
    for (let at = chunk.indexOf('"spanId"'); at !== -1; at = chunk.indexOf('"spanId"', at + 8)) spans += 1;
  });
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
}).listen(Number(process.argv[2]), '127.0.0.1');
