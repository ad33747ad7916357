// Item 5's plain pass-through proxy: node:http, no checks, no rewriting. Forwards each
// request's method, path, content type and body to UPSTREAM (the emulator's /release base)
// over a keep-alive agent and streams the answer back. Prints its URL once listening.
import { createServer, request as httpRequest, Agent } from 'node:http';

const upstream = new URL(process.env.UPSTREAM);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  const forward = httpRequest(
    {
      agent,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: upstream.pathname.replace(/\/$/, '') + req.url,
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/json',
        ...(req.headers['content-length'] ? { 'content-length': req.headers['content-length'] } : {}),
      },
    },
    (answer) => {
      res.writeHead(answer.statusCode, {
        'content-type': answer.headers['content-type'] ?? 'application/json',
        ...(answer.headers['content-length'] ? { 'content-length': answer.headers['content-length'] } : {}),
      });
      answer.pipe(res);
    },
  );
  forward.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(forward);
});
server.listen(0, '127.0.0.1', () => console.log(`pass-through listening on http://127.0.0.1:${server.address().port}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
