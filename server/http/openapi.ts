import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/**
 * The contract document is generated from the same zod schemas that validate requests:
 * each *.routes.ts registers its paths here next to the handler that uses the schema.
 */
export const registry = new OpenAPIRegistry();

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
});

registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

const errorResponses = {
  400: { description: 'validation_failed or malformed_json', content: { 'application/json': { schema: ErrorBody } } },
  401: { description: 'unauthorized', content: { 'application/json': { schema: ErrorBody } } },
  403: { description: 'forbidden', content: { 'application/json': { schema: ErrorBody } } },
  404: { description: 'not_found', content: { 'application/json': { schema: ErrorBody } } },
  409: { description: 'conflict', content: { 'application/json': { schema: ErrorBody } } },
};

type PathSpec = Omit<RouteConfig, 'responses' | 'path'> & {
  path: string;
  okStatus?: number;
  ok?: z.ZodType;
  okContentType?: string;
  /** Another success answer beside `ok` (e.g. 202 for a message that records nothing yet). */
  alsoOk?: { status: number; description: string; schema: z.ZodType };
  public?: boolean;
  /** Error answers of this route beside the shared ones (429 rate_limited, 408 request_timeout…), each with when. */
  errors?: Record<number, string>;
};

/** Registers one /api/v1 path with the error shape every route shares. */
export function describeRoute(spec: PathSpec): void {
  const { okStatus = 200, ok, okContentType = 'application/json', alsoOk, public: isPublic, path, errors = {}, ...rest } = spec;
  registry.registerPath({
    ...rest,
    path: `/api/v1${path}`.replace(/:([A-Za-z]+)/g, '{$1}'),
    security: isPublic ? [] : [{ bearer: [] }],
    responses: {
      [okStatus]: { description: 'OK', ...(ok ? { content: { [okContentType]: { schema: ok } } } : {}) },
      ...(alsoOk ? { [alsoOk.status]: { description: alsoOk.description, content: { 'application/json': { schema: alsoOk.schema } } } } : {}),
      ...errorResponses,
      ...Object.fromEntries(Object.entries(errors).map(([status, description]) => [status, { description, content: { 'application/json': { schema: ErrorBody } } }])),
    },
  });
}

/** A JSON request body in the shape the registry wants. */
export const jsonBody = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

export function buildOpenApiDocument() {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'AFRC API', version: '1.0.0', description: 'Anti-fraud joint response center: reports, tasks, feeds, indicators, statistics.' },
    servers: [{ url: '/' }],
  });
}
