// The simplest keep-alive reverse proxy Node can do (undici Pool, streamed body), in its own process:
// a reference point that shows how much of the built-in proxy's cost is Node's HTTP stack itself.
// Run by startNodeProxy(); sends its port to the parent.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { onCleanup, stopPid } from './cleanup.mjs';

/** Starts the reference proxy in front of `backendPort`; resolves with its URL and a stop(). */
export async function startNodeProxy(backendPort) {
  const child = fork(fileURLToPath(import.meta.url), [String(backendPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) await stopPid(child.pid, 2000);
  };
  onCleanup(stop);
  const port = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the reference proxy exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const pool = new Pool(`http://127.0.0.1:${Number(process.argv[2])}`, { connections: 256 });
  const server = createServer(async (req, res) => {
    try {
      const answer = await pool.request({
        method: req.method,
        path: req.url,
        headers: { host: req.headers.host ?? '' },
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      });
      res.writeHead(answer.statusCode, answer.headers);
      await pipeline(answer.body, res);
    } catch {
      res.destroy();
    }
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
}
