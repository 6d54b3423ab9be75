/**
 * One health probe of an instance or a task, the same on the agent and on the Swarm target: HTTP
 * GET of the health path (2xx and 3xx are healthy), or a TCP connect to its port.
 */
import { request } from 'node:http';
import { connect } from 'node:net';

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** `who` names the prober in the request's User-Agent (`rewind-agent/health`). */
export function probeHttp(host: string, port: number, path: string, timeoutMs: number, who = 'rewind-agent'): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(
      { host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': `${who}/health`, connection: 'close' } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, detail: `GET ${path} answered ${status}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `GET ${path}: ${err.code ?? err.message}` }));
    req.end();
  });
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: `port ${port} accepts connections` });
    });
    socket.once('timeout', () => socket.destroy(new Error('timeout')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `port ${port}: ${err.code ?? err.message}` }));
  });
}
