import path from 'node:path';
import { Router } from 'express';
import { fromProjectRoot } from '../paths';

/** Where the API documentation page lives; the document it renders is /api/v1/openapi.json. */
export const API_DOCS_PATH = '/api/docs';

/** The files of Swagger UI the page loads, served from node_modules: no CDN, and nothing else of the package. */
const SWAGGER_UI_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;

/**
 * The API reference rendered by Swagger UI from the same OpenAPI document the API publishes.
 * Everything is served from here, so the page runs under the app's Content-Security-Policy
 * (scripts and styles from 'self' only): its start-up script is a file of ours, not inline.
 */
export function apiDocsRoutes(): Router {
  const r = Router();
  const swaggerUiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  for (const file of SWAGGER_UI_FILES) {
    r.get(`${API_DOCS_PATH}/${file}`, (_req, res) => {
      res.sendFile(path.join(swaggerUiDir, file), { maxAge: '1d' });
    });
  }
  r.get(API_DOCS_PATH, (_req, res) => {
    res.sendFile(fromProjectRoot('public', 'api-docs.html'));
  });
  // The icon browsers ask for by name, for pages (and tools) that do not name one.
  r.get('/favicon.ico', (_req, res) => {
    res.type('image/svg+xml').sendFile(fromProjectRoot('public', 'favicon.svg'), { maxAge: '1d' });
  });
  return r;
}
