/**
 * The nginx data plane as data: the argv that runs the agent's nginx masters, and their whole
 * configurations rendered from what the agent routes (pure functions, tested as text).
 *
 * Two tiers, because a reload closes the idle keep-alive connections of the old workers, and a
 * client that sends its next request at that moment gets a reset. The front master holds the
 * client connections on the TCP ports and is reloaded only when the set of ports changes; it
 * forwards over keep-alive unix sockets to the back master, which routes to the instances and is
 * reloaded on every switch. When the back closes a kept-alive connection under a request, the
 * front retries it on a new connection (nginx does so for cached upstream connections).
 */
import { join } from 'node:path';
import { sharedHelp } from './shared-proxy.js';

/** Where one of the agent's nginx masters keeps its files: never the system's. */
export interface NginxPaths {
  readonly prefix: string;
  readonly conf: string;
  readonly pid: string;
  readonly errorLog: string;
}

export type NginxTier = 'front' | 'back';

export function nginxPaths(agentDataDir: string, tier: NginxTier): NginxPaths {
  const prefix = join(agentDataDir, 'nginx', tier);
  return { prefix, conf: join(prefix, 'nginx.conf'), pid: join(prefix, 'nginx.pid'), errorLog: join(prefix, 'error.log') };
}

/** Folder of the unix sockets between the tiers (short: a socket path is limited to 107 bytes). */
export function socketDir(agentDataDir: string): string {
  return join(agentDataDir, 'nginx', 's');
}

/** The socket on which the back tier serves what the front receives on `port`. */
export function socketPath(dir: string, port: number): string {
  return join(dir, `${port}.sock`);
}

/** Starts a master that daemonizes (it outlives the agent, like the instances do). */
export function nginxStartArgv(bin: string, paths: NginxPaths): string[] {
  return [bin, '-p', `${paths.prefix}/`, '-c', paths.conf, '-e', paths.errorLog];
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
  readonly front: NginxPaths;
  readonly back: NginxPaths;
  readonly sockets: string;
  readonly listeners: readonly NginxListener[];
  /** The shared host-name port and the main listener of each app/env. */
  readonly shared?: { readonly port: number; readonly apps: readonly NginxListener[] };
  /** How long old back workers may finish their connections after a switch (the drain timeout). */
  readonly shutdownTimeoutMs: number;
  /**
   * The workers' user when the agent runs as root: the agent's own (nginx would switch them to
   * nobody, who cannot reach the sockets between the tiers in the agent's private data dir).
   */
  readonly user?: string;
}

/** A string literal for nginx: double-quoted, with `"` and `\` escaped and `$` (variables) removed. */
function literal(text: string): string {
  return `"${text
    .replace(/\$/g, '')
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')}"`;
}

function noRelease(l: NginxListener): string {
  const envFlag = l.env === 'production' ? '' : ` -e ${l.env}`;
  return `no release of ${l.app} (${l.env}) is running; deploy one with \`rewind deploy -a ${l.app}${envFlag}\``;
}

/** What both tiers do to a proxied request. */
const PROXY = [
  'proxy_http_version 1.1;',
  'proxy_set_header Host $http_host;',
  'proxy_set_header Connection $rewind_connection;',
  'proxy_set_header Upgrade $http_upgrade;',
  // Streams (SSE) and large bodies go through as they come, never into temp files.
  'proxy_buffering off;',
  'proxy_request_buffering off;',
  'proxy_read_timeout 3600s;',
  'proxy_send_timeout 3600s;',
  'proxy_connect_timeout 5s;',
  // A refused or reset connection: one more try (nginx never retries POST, PATCH, LOCK once sent).
  'proxy_next_upstream error timeout;',
  'proxy_next_upstream_tries 3;',
];

/** The front tier says who asked; the back tier passes that on as it is. */
const FORWARDED = [
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header X-Forwarded-Host $http_host;',
  'proxy_set_header Forwarded $rewind_forwarded;',
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

const indent = (lines: readonly string[], by: string) => lines.map((l) => `${by}${l}`);

/** Old front workers keep their clients' WebSockets and streams this long after a change of ports. */
const FRONT_SHUTDOWN_MS = 300_000;

function main(paths: NginxPaths, model: NginxModel, shutdownTimeoutMs: number): string[] {
  return [
    '# Written by the Rewind agent: every change is overwritten. Run by its own nginx master (see nginx.pid).',
    'daemon on;',
    ...(model.user ? [`user ${model.user};`] : []),
    'worker_processes auto;',
    `pid ${paths.pid};`,
    `error_log ${paths.errorLog} warn;`,
    `worker_shutdown_timeout ${Math.max(1, Math.ceil(shutdownTimeoutMs / 1000))}s;`,
    'events {',
    '  worker_connections 4096;',
    '}',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    '  client_max_body_size 0;',
    '  keepalive_timeout 65s;',
    '  keepalive_requests 100000;',
    // Closing a connection (keep-alive ended, worker exiting): read what the client still sends, never reset it.
    '  lingering_close always;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(paths.prefix, 'tmp', t)};`),
    '  map $http_upgrade $rewind_connection {',
    '    default upgrade;',
    '    "" "";',
    '  }',
  ];
}

/** The front tier: the TCP ports, each forwarded to its back-tier socket. Changes only with the set of ports. */
export function renderFrontConfig(model: NginxModel): string {
  const ports = [...model.listeners.map((l) => l.port), ...(model.shared ? [model.shared.port] : [])].sort((a, b) => a - b);
  const out = [
    ...main(model.front, model, FRONT_SHUTDOWN_MS),
    '  map $remote_addr $rewind_forwarded_for {',
    '    ~: "\\"[$remote_addr]\\"";',
    '    default $remote_addr;',
    '  }',
    '  map $http_forwarded $rewind_forwarded {',
    '    "" "for=$rewind_forwarded_for;host=\\"$http_host\\";proto=$scheme";',
    '    default "$http_forwarded, for=$rewind_forwarded_for;host=\\"$http_host\\";proto=$scheme";',
    '  }',
  ];
  for (const port of ports) {
    out.push(`  upstream rewind_${port} {`, `    server unix:${socketPath(model.sockets, port)} max_fails=0;`, '    keepalive 64;', '  }');
    out.push(
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      `      proxy_pass http://rewind_${port};`,
      ...indent([...PROXY, ...FORWARDED], '      '),
      '    }',
      '  }',
    );
  }
  out.push('}', '');
  return out.join('\n');
}

/** The back tier: one unix socket per port, routed to the instances. Reloaded on every switch. */
export function renderBackConfig(model: NginxModel): string {
  const upstreams = new Map<NginxListener, string>();
  const out = main(model.back, model, model.shutdownTimeoutMs);
  const location = (l: NginxListener): string[] => {
    if (l.notDeployed !== undefined) return page(404, `component ${l.notDeployed} of ${l.app} (${l.env}) is not deployed`);
    const upstream = upstreams.get(l);
    if (!upstream) return page(503, noRelease(l));
    return [`proxy_pass http://${upstream};`, ...PROXY];
  };
  for (const l of [...model.listeners, ...(model.shared?.apps ?? [])]) {
    if (upstreams.has(l) || l.notDeployed !== undefined || l.upstreams.length === 0) continue;
    const name = `rewind_${upstreams.size + 1}`;
    upstreams.set(l, name);
    out.push(`  upstream ${name} {`, ...l.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`), '    keepalive 64;', '  }');
  }
  for (const l of model.listeners) {
    out.push('  server {', `    listen unix:${socketPath(model.sockets, l.port)};`, '    location / {', ...indent(location(l), '      '), '    }', '  }');
  }
  if (model.shared) {
    const port = model.shared.port;
    const listen = `    listen unix:${socketPath(model.sockets, port)}`;
    out.push('  server {', `${listen} default_server;`, '    location / {', ...indent(page(404, sharedHelp(port)), '      '), '    }', '  }');
    out.push('  server {', `${listen};`, '    server_name ~^(?<rewind_app>[a-z][a-z0-9-]*)(\\.(?<rewind_env>[a-z][a-z0-9-]*))?\\.localhost$;');
    out.push(
      '    set $rewind_env_name $rewind_env;',
      '    if ($rewind_env_name = "") {',
      '      set $rewind_env_name production;',
      '    }',
      '    location / {',
    );
    out.push(
      '      default_type "text/plain; charset=utf-8";',
      '      return 404 "404 Not Found\\n\\nno app $rewind_app ($rewind_env_name) runs on this agent\\n";',
      '    }',
      '  }',
    );
    for (const l of model.shared.apps) {
      const names = l.env === 'production' ? [`${l.app}.localhost`, `${l.app}.production.localhost`] : [`${l.app}.${l.env}.localhost`];
      out.push('  server {', `${listen};`, `    server_name ${names.join(' ')};`, '    location / {', ...indent(location(l), '      '), '    }', '  }');
    }
  }
  out.push('}', '');
  return out.join('\n');
}
