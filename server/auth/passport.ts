import type { Request } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Config } from '../config';
import { ALGORITHMS, TokenClaims, claimsToActor, signingKey, type TokenHolder } from './tokens';
import type { Actor } from './actor';

export const AUTH_COOKIE = 'afrc_token';

const fromCookie = (req: Request): string | null => (req.cookies?.[AUTH_COOKIE] as string | undefined) ?? null;

/**
 * Bearer header first (partner systems, scripts), then the httpOnly cookie set by the login form.
 * The strategy pins the algorithm list, issuer and audience; the claims are then checked by schema,
 * and the account is read again: a token ended by logout, password, role or institution change or
 * deactivation is refused, and the actor gets the role and institution the account has now.
 */
export function buildPassport(config: Config, currentActor: (holder: TokenHolder) => Promise<Actor | false>): passport.PassportStatic {
  const instance = new passport.Passport() as unknown as passport.PassportStatic;
  instance.use(
    'jwt',
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromAuthHeaderAsBearerToken(), fromCookie]),
        // jsonwebtoken takes a KeyObject as it is (the typings predate it).
        secretOrKey: signingKey(config) as unknown as Buffer,
        algorithms: ALGORITHMS,
        issuer: config.jwt.issuer,
        audience: config.jwt.audience,
        jsonWebTokenOptions: { maxAge: `${config.jwt.ttlSeconds}s` },
      },
      (payload: unknown, done: (err: unknown, user?: Actor | false) => void) => {
        const claims = TokenClaims.safeParse(payload);
        if (!claims.success) return done(null, false);
        currentActor({ actor: claimsToActor(claims.data), generation: claims.data.gen }).then((actor) => done(null, actor), done);
      },
    ),
  );
  return instance;
}
