// The benchmark app: answers every request with its version and the release it serves, so the
// benchmark can tell which release answered. VERSION is replaced in each temp copy.
const http = require('node:http');
const VERSION = 'v0';
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-length': '2' });
    return res.end('ok');
  }
  const body = `version=${VERSION} release=${process.env.REWIND_RELEASE} mark=${process.env.MARK || '-'}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
