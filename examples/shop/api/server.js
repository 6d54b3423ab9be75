// The shop's JSON API: GET / answers {"component":"api","version":…}.
const VERSION = 'v1';

const http = require('node:http');

const port = Number(process.env.PORT || 3001);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(`${JSON.stringify({ component: 'api', version: VERSION })}\n`);
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ error: 'not found' })}\n`);
});

server.listen(port, () => console.log(`api ${VERSION} listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
