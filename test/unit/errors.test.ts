import { dependencyOf, translatePgError, UnavailableError } from '../../server/errors';

describe('errors of a lost PostgreSQL connection', () => {
  it.each([
    'select * from "tasks" where "id" = $1 limit $2 - Connection terminated unexpectedly',
    'BEGIN; - Connection terminated unexpectedly',
    'ROLLBACK - Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'timeout exceeded when trying to connect',
  ])('"%s" means PostgreSQL is unavailable (503, one outage line), though node-postgres gives it no code', (message) => {
    expect(translatePgError(new Error(message))).toBeInstanceOf(UnavailableError);
    expect(dependencyOf(new Error(message))).toBe('postgres');
  });

  it('an error without a code that says nothing of the connection is not an outage', () => {
    expect(translatePgError(new Error('Cannot read properties of undefined'))).toBeUndefined();
    expect(dependencyOf(new Error('Cannot read properties of undefined'))).toBeUndefined();
  });
});
