// For the knex CLI; the application builds its connection in server/db.ts from the validated config.
import { knexConfig } from './server/db';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default knexConfig(url);
