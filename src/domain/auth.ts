/**
 * Names shared by the server, which makes and checks credentials, and the CLI on the same machine,
 * which finds the admin token by itself.
 */

/** The admin token the server makes on first start, in its data dir, mode 0600. */
export const ADMIN_TOKEN_FILE = 'admin.token';

/** The console's login cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'rewind_session';
