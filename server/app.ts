import path from 'node:path';
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import cookieParser from 'cookie-parser';
import { pinoHttp } from 'pino-http';
import { engine } from 'express-handlebars';
import type { Deps } from './wiring';
import { AppError, NotFoundError } from './errors';
import { authenticate } from './http/auth';
import { errorHandler } from './http/error-handler';
import { securityHeaders } from './http/https';
import { opsRoutes } from './http/ops.routes';
import { apiDocsRoutes } from './http/api-docs.routes';
import { authRoutes } from './auth/auth.routes';
import { adminRoutes } from './admin/admin.routes';
import { reportsRoutes } from './reports/reports.routes';
import { tasksRoutes } from './tasks/tasks.routes';
import { feedsRoutes } from './feeds/feeds.routes';
import { indicatorsRoutes } from './indicators/indicators.routes';
import { statsRoutes } from './stats/stats.routes';
import { screeningRoutes } from './screening/screening.routes';
import { publicRoutes } from './victims/case-status.routes';
import { holdsRoutes } from './holds/holds.routes';
import { pageRoutes } from './pages/pages.routes';
import { viewHelpers } from './pages/view-helpers';
import { csrfProtection } from './pages/csrf';
import { refuseDeepJson } from './http/validate';
import { serializeRequest } from './logger';
import { fromProjectRoot } from './paths';
import { FEED_DOCUMENT_TYPES } from './standards/media-types';

export const VIEWS_DIR = fromProjectRoot('views');

/** Media types the API accepts for bodies; NDJSON only on the feeds route, which parses its own stream. */
const API_BODY_TYPES = ['application/json', 'application/x-ndjson'];

/** Body types that one route reads itself: standard documents as feeds, camt.029 answers as task results. */
const ROUTE_BODY_TYPES: { path: RegExp; types: string[] }[] = [
  { path: /^\/v1\/feeds\/?$/, types: [...FEED_DOCUMENT_TYPES] },
  { path: /^\/v1\/tasks\/[^/]+\/result\/?$/, types: ['application/xml'] },
];

export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a reverse proxy: its X-Forwarded-For names the client (rate limits, logs) and its
  // X-Forwarded-Proto says whether the browser used https.
  if (deps.config.trustProxy !== false) app.set('trust proxy', deps.config.trustProxy);
  app.set('query parser', 'simple');

  app.engine('hbs', engine({
    extname: '.hbs',
    defaultLayout: 'main',
    layoutsDir: path.join(VIEWS_DIR, 'layouts'),
    partialsDir: path.join(VIEWS_DIR, 'partials'),
    helpers: viewHelpers,
  }));
  app.set('view engine', 'hbs');
  app.set('views', VIEWS_DIR);

  app.use(pinoHttp({
    logger: deps.logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
    serializers: { req: serializeRequest },
  }));
  app.use((req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      end({ route });
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  app.use(securityHeaders(deps.config));
  app.use('/static', express.static(fromProjectRoot('public'), { maxAge: '1h' }));
  // Probes and scrapers are answered before any cookie, session or body handling.
  app.use(opsRoutes(deps));
  app.use(apiDocsRoutes());
  // Everything past here may carry a token, victim data or a secret: no browser or proxy keeps a copy.
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(cookieParser());

  app.use('/api', (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && hasBody && !req.is(API_BODY_TYPES)) {
      const own = ROUTE_BODY_TYPES.find((r) => r.path.test(req.path));
      if (!own || !req.is(own.types)) {
        return next(new AppError('unsupported_media_type', 415, 'Send application/json (or application/x-ndjson, a STIX bundle, a MISP event or an X-ARF report to /feeds; a camt.029 as application/xml to /tasks/{id}/result).'));
      }
    }
    next();
  });
  const apiJson = express.json({ limit: deps.config.jsonBodyLimit, strict: true, verify: refuseDeepJson });
  // Feed submissions have their own limit and stream NDJSON: the feeds router reads its own body.
  app.use('/api', (req, res, next) => (req.method === 'POST' && /^\/v1\/feeds\/?$/.test(req.path) ? next() : apiJson(req, res, next)));
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(csrfProtection(deps.config));
  app.use(authenticate(deps.passport));

  app.use('/api/v1/auth', authRoutes(deps));
  app.use('/api/v1', adminRoutes(deps));
  app.use('/api/v1/reports', reportsRoutes(deps));
  app.use('/api/v1/tasks', tasksRoutes(deps));
  app.use('/api/v1/feeds', feedsRoutes(deps));
  app.use('/api/v1/indicators', indicatorsRoutes(deps));
  app.use('/api/v1/stats', statsRoutes(deps));
  app.use('/api/v1/screening', screeningRoutes(deps));
  app.use('/api/v1/public', publicRoutes(deps));
  app.use('/api/v1', holdsRoutes(deps));
  app.use('/api', (_req, _res, next) => next(new NotFoundError('No such route.')));
  app.use(pageRoutes(deps));
  app.use((_req, _res, next) => next(new NotFoundError('No such page.')));
  app.use(errorHandler(deps.logger, deps.health));
  return app;
}
