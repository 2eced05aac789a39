// An OTLP/HTTP JSON collector for bench/tracing.sh: takes every batch, counts its spans, keeps nothing.
// Usage: node bench/otlp_sink.mjs PORT; GET /stats answers {"batches","spans"}.
import http from 'node:http';

let batches = 0;
let spans = 0;
http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/stats') return res.end(JSON.stringify({ batches, spans }));
    batches += 1;
    for (const r of JSON.parse(body).resourceSpans) for (const s of r.scopeSpans) spans += s.spans.length;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
