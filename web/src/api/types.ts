/** The API's bodies, from the wire contract shared with the server and the CLI (types only: nothing of the server is bundled). */
export type * from '../../../src/contract/index';
