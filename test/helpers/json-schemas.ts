import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** Every .json file under `dir`, recursively. */
function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return jsonFiles(full);
    return name.endsWith('.json') ? [full] : [];
  });
}

/**
 * An ajv (draft 2020-12, with formats) holding every schema under `dir`, registered by its $id so
 * the schemas' relative $refs resolve among themselves. `unicodeRegExp: false` because the OASIS
 * STIX schemas write `\-` in patterns, which JavaScript's u flag refuses.
 */
export function schemaSet(dir: string): { ajv: Ajv2020; ids: Map<string, string> } {
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  // ajv-formats has no idn-hostname (STIX domain-name values); such values go unchecked.
  ajv.addFormat('idn-hostname', true);
  const ids = new Map<string, string>();
  for (const file of jsonFiles(dir)) {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { $id?: string };
    if (!schema.$id) continue;
    ajv.addSchema(schema);
    ids.set(path.relative(dir, file), schema.$id);
  }
  return { ajv, ids };
}

/** An ajv error's place in the document as a dotted path; a missing property is named at its own path. */
export function errorPath(err: { instancePath: string; keyword: string; params: Record<string, unknown> }): string {
  const base = err.instancePath.split('/').filter(Boolean).join('.');
  if (err.keyword === 'required') return base ? `${base}.${String(err.params.missingProperty)}` : String(err.params.missingProperty);
  return base;
}
