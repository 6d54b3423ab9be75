/**
 * The nginx data plane as data: the argv that runs the agent's own nginx master, and the whole
 * configuration rendered from what the agent routes (pure functions, tested as text).
 */
import { join } from 'node:path';
import { sharedHelp } from './shared-proxy.js';

/** Where the agent's nginx keeps its files: never the system's. */
export interface NginxPaths {
  readonly prefix: string;
  readonly conf: string;
  readonly pid: string;
  readonly errorLog: string;
}

export function nginxPaths(agentDataDir: string): NginxPaths {
  const prefix = join(agentDataDir, 'nginx');
  return { prefix, conf: join(prefix, 'nginx.conf'), pid: join(prefix, 'nginx.pid'), errorLog: join(prefix, 'error.log') };
}

/** Starts a master that daemonizes (it outlives the agent, like the instances do). */
export function nginxStartArgv(bin: string, paths: NginxPaths): string[] {
  return [bin, '-p', `${paths.prefix}/`, '-c', paths.conf, '-e', paths.errorLog];
}

/** Checks a configuration file without touching the running master. */
export function nginxTestArgv(bin: string, paths: NginxPaths): string[] {
  return [bin, '-t', '-q', '-p', `${paths.prefix}/`, '-c', paths.conf, '-e', paths.errorLog];
}

/** One port of an app/env: to its upstream instance ports, or a page when it has none (503) or its component is gone (404). */
export interface NginxListener {
  readonly port: number;
  readonly app: string;
  readonly env: string;
  readonly upstreams: readonly number[];
  /** Set for a component no longer deployed: answers 404. */
  readonly notDeployed?: string;
}

export interface NginxModel {
  readonly paths: NginxPaths;
  readonly listeners: readonly NginxListener[];
  /** The shared host-name port and the main listener of each app/env. */
  readonly shared?: { readonly port: number; readonly apps: readonly NginxListener[] };
  /** How long old workers may finish their connections after a reload (the drain timeout). */
  readonly shutdownTimeoutMs: number;
}

/** A string literal for nginx: double-quoted, with `"` and `\` escaped and `$` (variables) removed. */
function literal(text: string): string {
  return `"${text.replace(/\$/g, '').replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

function noRelease(l: NginxListener): string {
  const envFlag = l.env === 'production' ? '' : ` -e ${l.env}`;
  return `no release of ${l.app} (${l.env}) is running; deploy one with \`rewind deploy -a ${l.app}${envFlag}\``;
}

const PROXY = [
  'proxy_http_version 1.1;',
  'proxy_set_header Host $http_host;',
  'proxy_set_header Connection $rewind_connection;',
  'proxy_set_header Upgrade $http_upgrade;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header X-Forwarded-Host $http_host;',
  'proxy_set_header Forwarded $rewind_forwarded;',
  // Streams (SSE) and large bodies go through as they come, never into temp files.
  'proxy_buffering off;',
  'proxy_request_buffering off;',
  'proxy_read_timeout 3600s;',
  'proxy_send_timeout 3600s;',
  'proxy_connect_timeout 5s;',
  // An instance that refuses or resets: one more try on another (nginx never retries POST, PATCH, LOCK).
  'proxy_next_upstream error timeout;',
  'proxy_next_upstream_tries 2;',
];

function page(status: 404 | 503, message: string): string[] {
  const title = status === 404 ? '404 Not Found' : '503 Service Unavailable';
  return [
    'default_type "text/plain; charset=utf-8";',
    'add_header Cache-Control no-store always;',
    ...(status === 503 ? ['add_header Retry-After 2 always;'] : []),
    `return ${status} ${literal(`${title}\n\n${message}\n`)};`,
  ];
}

function location(l: NginxListener, upstream: string | null): string[] {
  if (l.notDeployed !== undefined) return page(404, `component ${l.notDeployed} of ${l.app} (${l.env}) is not deployed`);
  if (!upstream) return page(503, noRelease(l));
  return [`proxy_pass http://${upstream};`, ...PROXY];
}

const indent = (lines: readonly string[], by: string) => lines.map((l) => `${by}${l}`);

export function renderNginxConfig(model: NginxModel): string {
  const { paths } = model;
  const upstreams = new Map<NginxListener, string>();
  const out: string[] = [
    '# Written by the Rewind agent: every change is overwritten. Run by its own nginx master (see nginx.pid).',
    'daemon on;',
    'worker_processes auto;',
    `pid ${paths.pid};`,
    `error_log ${paths.errorLog} warn;`,
    `worker_shutdown_timeout ${Math.max(1, Math.ceil(model.shutdownTimeoutMs / 1000))}s;`,
    'events {',
    '  worker_connections 4096;',
    '}',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    '  client_max_body_size 0;',
    `  ${process.env.RW_KA ?? 'keepalive_timeout 65s;'}`,
    '  keepalive_requests 100000;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(paths.prefix, 'tmp', t)};`),
    '  map $http_upgrade $rewind_connection {',
    '    default upgrade;',
    '    "" "";',
    '  }',
    '  map $remote_addr $rewind_forwarded_for {',
    '    ~: "\\"[$remote_addr]\\"";',
    '    default $remote_addr;',
    '  }',
    '  map $http_forwarded $rewind_forwarded {',
    '    "" "for=$rewind_forwarded_for;host=\\"$http_host\\";proto=$scheme";',
    '    default "$http_forwarded, for=$rewind_forwarded_for;host=\\"$http_host\\";proto=$scheme";',
    '  }',
  ];
  const all = [...model.listeners, ...(model.shared?.apps ?? [])];
  for (const l of all) {
    if (upstreams.has(l) || l.notDeployed !== undefined || l.upstreams.length === 0) continue;
    const name = `rewind_${upstreams.size + 1}`;
    upstreams.set(l, name);
    out.push(`  upstream ${name} {`, ...l.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`), '    keepalive 64;', '  }');
  }
  for (const l of model.listeners) {
    out.push('  server {', `    listen 127.0.0.1:${l.port};`, '    location / {', ...indent(location(l, upstreams.get(l) ?? null), '      '), '    }', '  }');
  }
  if (model.shared) {
    const port = model.shared.port;
    out.push('  server {', `    listen 127.0.0.1:${port} default_server;`, '    location / {', ...indent(page(404, sharedHelp(port)), '      '), '    }', '  }');
    out.push('  server {', `    listen 127.0.0.1:${port};`, '    server_name ~^(?<rewind_app>[a-z][a-z0-9-]*)(\\.(?<rewind_env>[a-z][a-z0-9-]*))?\\.localhost$;');
    out.push('    set $rewind_env_name $rewind_env;', '    if ($rewind_env_name = "") {', '      set $rewind_env_name production;', '    }', '    location / {');
    out.push('      default_type "text/plain; charset=utf-8";', '      return 404 "404 Not Found\\n\\nno app $rewind_app ($rewind_env_name) runs on this agent\\n";', '    }', '  }');
    for (const l of model.shared.apps) {
      const names = l.env === 'production' ? [`${l.app}.localhost`, `${l.app}.production.localhost`] : [`${l.app}.${l.env}.localhost`];
      out.push('  server {', `    listen 127.0.0.1:${port};`, `    server_name ${names.join(' ')};`, '    location / {', ...indent(location(l, upstreams.get(l) ?? null), '      '), '    }', '  }');
    }
  }
  out.push('}', '');
  return out.join('\n');
}
