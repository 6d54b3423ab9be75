/**
 * Where a Docker Engine answers: `unix:///path/to/docker.sock`, or `tcp://host:port` with optional
 * TLS client certificates (file paths, as `docker --tlscacert --tlscert --tlskey` take them).
 */

/** TLS for a tcp:// docker host: the CA that signed the daemon's certificate, and the client's pair. */
export interface DockerTlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export type DockerHost =
  | { readonly kind: 'unix'; readonly url: string; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly url: string; readonly host: string; readonly port: number; readonly tls?: DockerTlsFiles };

const USAGE = 'write unix:///PATH/TO/docker.sock or tcp://HOST:PORT';

function badHost(url: string, why: string): Error {
  return new Error(`docker host "${url}" ${why}; ${USAGE}`);
}

function checkTls(url: string, tls: Partial<DockerTlsFiles>): DockerTlsFiles {
  const missing = (['ca', 'cert', 'key'] as const).filter((k) => !tls[k]);
  if (missing.length) throw badHost(url, `has TLS files without ${missing.join(', ')}; give all three of ca, cert and key`);
  return { ca: tls.ca!, cert: tls.cert!, key: tls.key! };
}

function parseUnix(url: string, rest: string, tls: Partial<DockerTlsFiles> | undefined): DockerHost {
  if (tls) throw badHost(url, 'is a Unix socket, and TLS files apply only to tcp:// hosts');
  if (!rest.startsWith('/')) throw badHost(url, 'needs an absolute socket path (three slashes: unix:///run/docker.sock)');
  if (/[\0?#]/.test(rest)) throw badHost(url, 'has a socket path with a query, fragment or NUL');
  return { kind: 'unix', url, socketPath: rest };
}

function parseTcp(url: string, rest: string, tls: Partial<DockerTlsFiles> | undefined): DockerHost {
  let parsed: URL;
  try {
    parsed = new URL(`tcp://${rest}`);
  } catch {
    throw badHost(url, 'is not a valid address');
  }
  if (!parsed.hostname) throw badHost(url, 'has no host');
  if ((parsed.pathname && parsed.pathname !== '/') || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw badHost(url, 'may hold only a host and a port');
  }
  const checked = tls ? checkTls(url, tls) : undefined;
  // Docker's conventions: 2375 plain, 2376 with TLS.
  const port = parsed.port ? Number(parsed.port) : checked ? 2376 : 2375;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return checked ? { kind: 'tcp', url, host, port, tls: checked } : { kind: 'tcp', url, host, port };
}

/** Parses a docker host URL; a bad one throws one line saying what is wrong and what to write. */
export function parseDockerHost(url: string, tls?: Partial<DockerTlsFiles>): DockerHost {
  const m = /^([a-z]+):\/\/(.*)$/.exec(url.trim());
  if (!m) throw badHost(url, 'is not a URL');
  const [, scheme, rest] = m;
  if (scheme === 'unix') return parseUnix(url.trim(), rest, tls);
  if (scheme === 'tcp') return parseTcp(url.trim(), rest, tls);
  throw badHost(url, `has the scheme ${scheme}://, which Rewind does not speak`);
}

/** The origin undici connects to (a Unix socket still needs one for the Host header). */
export function originOf(host: DockerHost): string {
  if (host.kind === 'unix') return 'http://localhost';
  const name = host.host.includes(':') ? `[${host.host}]` : host.host;
  return `${host.tls ? 'https' : 'http'}://${name}:${host.port}`;
}
