// The shop's storefront. Change VERSION, deploy: only this component is rebuilt.
const VERSION = 'v1';

const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const name = process.env.SHOP_NAME || 'shop';
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(`<h1>${escape(name)} web ${VERSION}</h1>\n`);
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

server.listen(port, () => console.log(`web ${VERSION} listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
