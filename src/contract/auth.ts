import { Type } from '@sinclair/typebox';
import { IDENTITY_VIAS } from '../domain/states.js';
import { StringEnum, type View } from './common.js';

/** Who a request is, and console login links. */

/** `GET /api/auth/whoami`: the identity a request is made as (the audit log's actor). */
export const IdentityView = Type.Object({
  name: Type.String({ description: "the credential's name, recorded as the actor of every change" }),
  via: StringEnum(IDENTITY_VIAS, 'how the request authenticated; none: the server runs with --insecure-no-auth'),
});
export type IdentityView = View<typeof IdentityView>;

/** `POST /api/auth/login-links`: a one-time console login link. */
export const LoginLinkView = Type.Object({
  url: Type.String({ description: 'opens the console logged in, once; the code in it is then spent' }),
  expiresAt: Type.String(),
});
export type LoginLinkView = View<typeof LoginLinkView>;
