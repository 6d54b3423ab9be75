// A private nginx for the comparison: its own master process (`-p DIR -c CONF`, never the system
// nginx), configured by hand as users do (worker_processes auto, upstream keep-alive) in front of
// one backend port.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onCleanup, stopPid } from './cleanup.mjs';
import { tempDir } from './rewind.mjs';
import { freePort, sleep } from './util.mjs';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx', '/usr/bin/nginx', '/opt/homebrew/bin/nginx'];

/** The nginx binary and its version, or null with the reason. */
export function findNginx() {
  const bin = process.env.BENCH_NGINX || CANDIDATES.find((p) => existsSync(p));
  if (!bin) return { bin: null, version: null, reason: `nginx is not installed (looked in ${CANDIDATES.join(', ')}; set BENCH_NGINX to its path)` };
  // nginx -v prints to stderr.
  const run = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const text = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  if (run.status !== 0 || !/nginx version/.test(text)) return { bin: null, version: null, reason: `${bin} -v failed: ${text || run.error?.message}` };
  return { bin, version: text.replace(/^nginx version: /, '') };
}

export function nginxConfig({ dir, port, backendPort, workers = 'auto' }) {
  return `# Written by bench/lib/nginx.mjs: a hand-configured reverse proxy, as a user would write it.
worker_processes ${workers};
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_timeout 65s;
  keepalive_requests 100000;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 256;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/** Starts a private nginx in front of `backendPort`; resolves with its URL and a stop(). */
export async function startNginx(bin, backendPort) {
  const dir = await tempDir('rewind-bench-nginx-');
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, nginxConfig({ dir, port, backendPort }));
  // Own process group, so its worker ends with it; -e keeps nginx away from the system error log.
  const child = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) await stopPid(-child.pid, 3000);
  };
  onCleanup(stop);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${err}${readLog(dir)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.text();
      if (res.ok) return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop };
    } catch {}
    await sleep(50);
  }
  await stop();
  throw new Error(`nginx did not answer within 10 s: ${err}${readLog(dir)}`);
}

function readLog(dir) {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
