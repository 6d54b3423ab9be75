import { describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import { ApiResponseError, CliError, UnreachableError, describeFailure, errorFromResponse, networkCode, noApp } from '../../src/cli/errors.js';

describe('error lines', () => {
  it('maps a known API error code to a RewindError with its exit code', () => {
    const err = errorFromResponse(404, JSON.stringify({ error: { code: 'APP_NOT_FOUND', message: 'app "x" does not exist; see "rewind apps"' } }));
    expect(err).toBeInstanceOf(RewindError);
    expect(describeFailure(err)).toEqual({ text: 'error: app "x" does not exist; see "rewind apps"', exitCode: 1 });
    const busy = errorFromResponse(409, JSON.stringify({ error: { code: 'DEPLOYMENT_IN_PROGRESS', message: 'deployment DABCDEFGHI in progress' } }));
    expect(describeFailure(busy).exitCode).toBe(2);
  });

  it('keeps an unknown code, using the HTTP status for the exit code', () => {
    const err = errorFromResponse(503, JSON.stringify({ error: { code: 'SOMETHING_NEW', message: 'try later' } }));
    expect(err).toBeInstanceOf(ApiResponseError);
    expect(describeFailure(err)).toEqual({ text: 'error: try later', exitCode: 2 });
  });

  it('explains bodies that are not ours', () => {
    expect(describeFailure(errorFromResponse(404, '{"statusCode":404,"error":"Not Found","message":"Route GET:/api/x not found"}')).text).toBe(
      'error: the server answered 404: Route GET:/api/x not found',
    );
    expect(describeFailure(errorFromResponse(502, '<html>Bad Gateway</html>')).text).toBe('error: the server answered 502: <html>Bad Gateway</html>');
  });

  it('prints one line, whatever the message', () => {
    expect(describeFailure(new RewindError('INVALID_MANIFEST', 'rewind.yml:3: bad port\nrewind.yml:7: no command\n')).text).toBe(
      'error: rewind.yml:3: bad port; rewind.yml:7: no command',
    );
  });

  it('adds the stack only with --verbose', () => {
    const err = new CliError('boom');
    expect(describeFailure(err, false).text).toBe('error: boom');
    const verbose = describeFailure(err, true).text.split('\n');
    expect(verbose[0]).toBe('error: boom');
    expect(verbose[1]).toContain('CliError: boom');
  });

  it('says how to reach the server, exit 2', () => {
    expect(describeFailure(new UnreachableError('http://127.0.0.1:7070', 'ECONNREFUSED'))).toEqual({
      text: 'error: cannot reach the Rewind server at http://127.0.0.1:7070: ECONNREFUSED; start it with "npm start" or "rewind server", or set REWIND_HOST',
      exitCode: 2,
    });
  });

  it('finds network codes inside AggregateErrors and causes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:7070'), { code: 'ECONNREFUSED' });
    expect(networkCode(new AggregateError([refused]))).toBe('ECONNREFUSED');
    expect(networkCode(new Error('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
    expect(networkCode(new Error('other'))).toBeUndefined();
  });

  it('missing app', () => {
    expect(describeFailure(noApp())).toEqual({ text: 'error: no app given; pass -a APP or set REWIND_APP', exitCode: 1 });
  });
});
