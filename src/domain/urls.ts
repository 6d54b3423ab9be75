/** A URL without its password, for messages and logs (a database URL may carry one). */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return 'an invalid URL';
  }
}
