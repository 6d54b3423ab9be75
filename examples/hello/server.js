// The app the README deploys. Change VERSION to 'v2', deploy again, then roll back.
const VERSION = 'v1';

const http = require('node:http');

const greeting = process.env.GREETING || 'hello';
const port = Number(process.env.PORT || 3000);

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (url.pathname === '/slow') {
    const ms = Math.min(Math.max(Number(url.searchParams.get('ms')) || 0, 0), 60_000);
    return setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${VERSION} slept ${ms}ms`);
    }, ms);
  }
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(`<h1>${escape(greeting)} from ${VERSION}</h1><p>GREETING=${escape(greeting)}</p>`);
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
});

server.listen(port, () => console.log(`hello ${VERSION} listening on ${port}`));

// Finish in-flight requests when Rewind drains this instance.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
