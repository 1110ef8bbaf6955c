import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from '../config';

/**
 * Whether this request reached the center over https. The deployment's PUBLIC_URL decides when it
 * is set; otherwise the connection does (req.secure: TLS to this process, or, with TRUST_PROXY,
 * a trusted proxy's X-Forwarded-Proto). HSTS, upgrade-insecure-requests and Secure cookies follow
 * it: sent over plain http they would make a browser fetch the styles, the script and the login
 * form over an https nobody serves, and drop the sign-in cookie.
 */
export function servedOverHttps(config: Config, req: Request): boolean {
  if (config.publicUrl) return config.httpsByDeployment;
  return req.secure;
}

/** The security headers: one helmet for pages served over https, one for plain http. */
export function securityHeaders(config: Config): RequestHandler {
  const directives = { 'script-src': ["'self'"], 'style-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'form-action': ["'self'"] };
  const overHttps = helmet({ contentSecurityPolicy: { directives }, strictTransportSecurity: true });
  const overHttp = helmet({
    contentSecurityPolicy: { directives: { ...directives, 'upgrade-insecure-requests': null } },
    strictTransportSecurity: false,
  });
  return (req, res, next) => (servedOverHttps(config, req) ? overHttps : overHttp)(req, res, next);
}
