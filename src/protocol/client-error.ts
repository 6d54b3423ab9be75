/**
 * The answer to a request Node cannot parse (headers over the size limit, a malformed request
 * line, a request that timed out), for Fastify's `clientErrorHandler` in the API and the agent.
 * Fastify's own answer does not say `Connection: close` and then closes the connection, so a
 * keep-alive client sent its next request into a closed socket and saw it cut.
 */
import type { Socket } from 'node:net';

const ANSWERS: Readonly<Record<string, readonly [status: number, reason: string, code: string, message: string]>> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'HEADERS_TOO_LARGE',
    'the request line and headers are larger than the server accepts (16 KiB); send a shorter URL',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request did not arrive in time; send it whole'],
};
const BAD_REQUEST = [400, 'Bad Request', 'BAD_REQUEST', 'the request is not valid HTTP/1.1'] as const;

/** Writes the error (`{ error: { code, message } }`, Connection: close) and closes the connection. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] = ANSWERS[err.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
