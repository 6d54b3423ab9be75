/** The API's bodies, shared with the server and the CLI (types only: nothing of the server is bundled). */
export type * from '../../../src/api/types';
