import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies as plain data, for the API and the agent alike: an empty body is no body (a change
 * with nothing to say still sends application/json), and keys such as __proto__ are kept as data
 * (a config key may be named so; the code never merges a body into an object with a prototype).
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Object.assign(err as Error, { statusCode: 400 }), undefined);
    }
  });
}
