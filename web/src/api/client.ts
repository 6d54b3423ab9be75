import type { ApiError } from './types';

/** An API reply that was not 2xx, or a server that could not be reached: `message` is for people. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's details, for some codes (STALE_PLAN: `{ plan }`, the new plan). */
    readonly details?: unknown,
  ) {
    super(message);
  }
  /** The new plan of a STALE_PLAN refusal (the environment changed since the plan shown). */
  stalePlan<P>(): P | undefined {
    return this.code === 'STALE_PLAN' ? (this.details as { plan?: P } | undefined)?.plan : undefined;
  }
  /** True when the route itself does not exist on this server (an older Rewind). */
  get missingRoute(): boolean {
    return this.status === 404 && this.message.startsWith('no such route');
  }
}

/**
 * The console authenticates with its login cookie (HttpOnly: no script here can read it), which a
 * same-origin fetch sends by itself; the token itself is never kept in the browser.
 */
export const auth = {
  /** Exchanges a pasted API token for the login cookie. */
  login: (token: string) => json<{ name: string }>('POST', '/api/auth/session', { token }),
  logout: () => send('DELETE', '/api/auth/session'),
  whoami: () => json<{ name: string; via: string }>('GET', '/api/auth/whoami'),
};

/** Every change is sent as JSON (the server refuses other types, which a cross-site form could send). */
export function headers(method: string): Record<string, string> {
  return method === 'GET' || method === 'HEAD' || method === 'DELETE' ? {} : { 'content-type': 'application/json' };
}

/** Turns a non-2xx reply into an ApiFailure carrying the server's own words. */
export async function failure(res: Response): Promise<ApiFailure> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as ApiError;
    if (body?.error?.message) return new ApiFailure(res.status, body.error.code, body.error.message, body.error.details);
  } catch {
    // not JSON: fall through
  }
  return new ApiFailure(res.status, 'HTTP', `the server answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

export async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    const change = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
    res = await fetch(path, {
      method,
      headers: headers(method),
      body: body === undefined ? (change ? '{}' : undefined) : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiFailure(0, 'UNREACHABLE', 'Cannot reach the Rewind server. Is `rewind server` still running?');
  }
  if (!res.ok) throw await failure(res);
  return res;
}

export async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export const get = <T>(path: string) => json<T>('GET', path);
export const post = <T>(path: string, body: unknown) => json<T>('POST', path, body);

export const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

export const enc = encodeURIComponent;
