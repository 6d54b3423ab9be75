/**
 * Pure header rules of the proxy: drop hop-by-hop headers both ways, add the X-Forwarded-* and
 * Forwarded (RFC 7239) headers on the way in.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus `proxy-*`. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Headers named in `Connection:` are hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const raw = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    raw
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

export function isHopByHop(name: string, listed: ReadonlySet<string> = new Set()): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || listed.has(lower);
}

type HeaderBag = Readonly<Record<string, string | string[] | number | undefined>>;

/** Copies end-to-end headers only. */
export function withoutHopByHop(headers: HeaderBag): Record<string, string | string[]> {
  const listed = connectionTokens(headers.connection as string | string[] | undefined);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isHopByHop(name, listed)) continue;
    out[name] = typeof value === 'number' ? String(value) : value;
  }
  return out;
}

export interface ClientInfo {
  /** The peer address as Node reports it (`::ffff:127.0.0.1`, `::1`). */
  readonly remoteAddress: string | undefined;
  readonly proto: 'http' | 'https';
}

function clientIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function forwardedNode(ip: string): string {
  if (ip === 'unknown') return 'unknown';
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

function join(existing: string | string[] | undefined, value: string): string {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  return prior ? `${prior}, ${value}` : value;
}

/** The headers sent upstream: end-to-end headers (Host kept) plus who asked, for which host, over what. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, client: ClientInfo): Record<string, string | string[]> {
  const out = withoutHopByHop(headers as HeaderBag);
  // Node answered `Expect: 100-continue` to the client already; the upstream must not wait for one.
  delete out.expect;
  const ip = clientIp(client.remoteAddress);
  const host = typeof headers.host === 'string' ? headers.host : undefined;
  const proto = typeof headers['x-forwarded-proto'] === 'string' ? headers['x-forwarded-proto'] : client.proto;
  out['x-forwarded-for'] = join(headers['x-forwarded-for'], ip);
  out['x-forwarded-proto'] = proto;
  if (host) out['x-forwarded-host'] = typeof headers['x-forwarded-host'] === 'string' ? headers['x-forwarded-host'] : host;
  const element = [`for=${forwardedNode(ip)}`, host ? `host="${host.replace(/["\\]/g, '')}"` : '', `proto=${client.proto}`].filter(Boolean).join(';');
  out.forwarded = join(headers.forwarded, element);
  return out;
}

/** The headers sent back to the client. */
export function clientResponseHeaders(headers: HeaderBag): OutgoingHttpHeaders {
  return withoutHopByHop(headers);
}
