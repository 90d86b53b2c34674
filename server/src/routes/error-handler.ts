/**
 * One error shape for every HTTP error: `{ error: { code, message } }` with a stable code.
 * Fastify's own errors (bad JSON, oversize body, wrong media type), request validation errors
 * and alert-engine errors are all mapped here; anything unexpected is a 500 that is logged and
 * does not leak internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ServerError } from '../errors.ts';

/** An error a route throws on purpose, with its HTTP status. */
export class HttpError extends ServerError {
  readonly statusCode: number;

  constructor(statusCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.statusCode = statusCode;
  }
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/**
 * Alert-engine errors carry a `code`; the HTTP status follows from it: unknown alert -> 404,
 * a change the alert's state does not allow (already resolved) -> 409.
 */
export function statusForEngineCode(code: string): number | null {
  if (/NOT_FOUND|UNKNOWN/.test(code)) return 404;
  if (/RESOLVED|CONFLICT|STATE|TRANSITION/.test(code)) return 409;
  if (/INVALID|VALIDATION/.test(code)) return 400;
  return null;
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'request';
      const message = err.validation
        .map((v) => `${where}${v.instancePath === '/' ? '' : v.instancePath.replaceAll('/', '.')}: ${v.message}`)
        .join('\n');
      return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message } });
    }
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    const code = typeof err.code === 'string' ? err.code : '';
    const fastifyCode = FASTIFY_CODES[code];
    if (fastifyCode) {
      return reply.code(err.statusCode ?? 400).send({ error: { code: fastifyCode, message: err.message } });
    }
    const engineStatus = code && !code.startsWith('FST_') ? statusForEngineCode(code) : null;
    if (engineStatus) return reply.code(engineStatus).send({ error: { code, message: err.message } });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // Other client errors Fastify raises (prototype poisoning, bad URL ...).
      return reply.code(err.statusCode).send({ error: { code: code || 'BAD_REQUEST', message: err.message } });
    }
    request.log.error({ err }, 'request failed');
    return reply
      .code(500)
      .send({ error: { code: 'INTERNAL', message: 'kesalahan internal, lihat log server / internal error, see the server log' } });
  });
  app.setNotFoundHandler((request, reply) => {
    const route = `${request.method} ${request.url.slice(0, 200)}`;
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `rute tidak ada: ${route} / no route ${route}` } });
  });
}
