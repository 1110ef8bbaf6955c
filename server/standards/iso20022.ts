import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { formatMinorPlain } from '../domain/money';
import type { Outcome } from '../domain/kinds';
import { ValidationError } from '../errors';
import type { TaskResultBody } from '../tasks/tasks.schemas';

// ISO 20022 for banks whose payment systems speak it: an interception goes out as a camt.056
// FI-to-FI payment cancellation request with reason FRAD, and the bank's camt.029 resolution of
// investigation comes back as the task's result. Both are read and written through
// fast-xml-parser, never by pasting strings: every value is escaped by the builder.

export const CAMT056_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:camt.056.001.08';
/** camt.029 answers are taken in any published version: the elements read here are the same in all. */
const CAMT029_NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:camt\.029\.001\.\d{2}$/;

/** The cancellation reason AFRC sends: fraudulent origin. */
export const FRAUD_REASON = 'FRAD';

/**
 * RJCR reason codes (ExternalPaymentCancellationRejection1Code) that mean the money is no longer
 * in the account: it was spent or passed on (AM04 insufficient funds, PTNA passed to the next
 * agent) or left with the closed account (AC04). Every other reason, or none, means the bank
 * found nothing to stop.
 */
export const FUNDS_MOVED_REASONS: readonly string[] = ['AM04', 'PTNA', 'AC04'];

/** ISO 20022 identifiers are at most 35 characters; a task id without its hyphens is 32 hex digits. */
export function isoCaseId(taskId: string): string {
  return taskId.replace(/-/g, '');
}

export type RecallTask = {
  id: string;
  amountMinor: number | null;
  currency: string | null;
  target: { value: string; name: string | null };
  transferredAt: string | null;
  createdAt: string;
};

export type RecallParties = {
  center: { name: string };
  institution: { id: string; name: string };
};

/** An institution named by AFRC's own identifier, the way camt messages name an agent without a BIC. */
function agent(id: string, name: string) {
  return { Agt: { FinInstnId: { Nm: name, Othr: { Id: id, Issr: 'AFRC' } } } };
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });

/**
 * The camt.056 for an `intercept_funds` task: the task id (without hyphens) as assignment and case
 * id, the transfer's amount, date and receiving account, and reason FRAD. The original payment's
 * message and end-to-end ids are not known to the center (the victim has only the receipt), so
 * they carry ISO 20022's NOTPROVIDED; the task id stands as the instruction reference.
 */
export function buildCamt056(task: RecallTask, parties: RecallParties): string {
  if (task.amountMinor === null || task.currency === null) {
    throw new TypeError(`task ${task.id} has no amount to recall`);
  }
  const caseId = isoCaseId(task.id);
  const center = agent('afrc', parties.center.name);
  const transferredAt = task.transferredAt ?? task.createdAt;
  const document = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    Document: {
      '@_xmlns': CAMT056_NAMESPACE,
      FIToFIPmtCxlReq: {
        Assgnmt: {
          Id: caseId,
          Assgnr: center,
          Assgne: agent(parties.institution.id, parties.institution.name),
          CreDtTm: task.createdAt,
        },
        Case: { Id: caseId, Cretr: center },
        Undrlyg: {
          TxInf: {
            OrgnlGrpInf: { OrgnlMsgId: 'NOTPROVIDED', OrgnlMsgNmId: 'pacs.008.001.08', OrgnlCreDtTm: transferredAt },
            OrgnlInstrId: caseId,
            OrgnlEndToEndId: 'NOTPROVIDED',
            OrgnlIntrBkSttlmAmt: { '@_Ccy': task.currency, '#text': formatMinorPlain(task.amountMinor, task.currency) },
            OrgnlIntrBkSttlmDt: transferredAt.slice(0, 10),
            CxlRsnInf: {
              Orgtr: { Nm: parties.center.name },
              Rsn: { Cd: FRAUD_REASON },
              AddtlInf: 'Funds obtained by fraud reported to the anti-fraud center: stop and hold them.',
            },
            OrgnlTxRef: {
              Cdtr: task.target.name ? { Pty: { Nm: task.target.name } } : undefined,
              CdtrAcct: { Id: { Othr: { Id: task.target.value } } },
            },
          },
        },
      },
    },
  };
  return builder.build(document) as string;
}

// ---- camt.029 ---------------------------------------------------------------------------------

/** What a camt.029 answer means for its task: a result to record, or nothing yet (PDCR). */
export type Resolution =
  | { kind: 'result'; status: 'CNCL' | 'RJCR'; outcome: Extract<Outcome, 'frozen' | 'funds_moved' | 'not_found'>; reason: string | null; note: string | null }
  | { kind: 'pending'; status: 'PDCR'; note: string | null };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Values stay text: an id of digits must not become a number, a code like "1E10" neither.
  parseTagValue: false,
  parseAttributeValue: false,
  // No entity expansion at all: an ISO 20022 message has no use for it, and it is the door to
  // entity-expansion attacks.
  processEntities: false,
  trimValues: true,
});

type Node = Record<string, unknown>;
const ROOT = 'Document';

function refuse(path: string, message: string): never {
  throw new ValidationError([{ path, message }], 'The body is not a camt.029 resolution of investigation AFRC can read.');
}

/** Element names without their namespace prefix; namespace declarations dropped. */
function withoutPrefixes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrefixes);
  if (value === null || typeof value !== 'object') return value;
  const out: Node = {};
  for (const [key, child] of Object.entries(value as Node)) {
    if (key.startsWith('@_xmlns')) continue;
    const local = key.startsWith('@_') ? `@_${key.slice(2).replace(/^[^:]*:/, '')}` : key.replace(/^[^:#?]*:/, '');
    out[local] = withoutPrefixes(child);
  }
  return out;
}

/** The one element at `path` under `node`; absent, repeated or not an element is refused at its path. */
function element(node: Node, name: string, path: string): Node {
  const value = node[name];
  const at = `${path}.${name}`;
  if (value === undefined) refuse(at, 'is required');
  if (Array.isArray(value)) refuse(at, 'must appear once');
  if (value === null || typeof value !== 'object') refuse(at, 'must be an element with content');
  return value as Node;
}

function optionalElement(node: Node, name: string, path: string): Node | undefined {
  return node[name] === undefined ? undefined : element(node, name, path);
}

function text(node: Node, name: string, path: string): string {
  const value = node[name];
  const at = `${path}.${name}`;
  if (value === undefined) refuse(at, 'is required');
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Node)['#text'] === 'string') {
    return (value as Node)['#text'] as string;
  }
  if (typeof value !== 'string' || value === '') refuse(at, 'must be text');
  return value;
}

function optionalText(node: Node | undefined, name: string, path: string): string | null {
  if (!node || node[name] === undefined) return null;
  return text(node, name, path);
}

/**
 * Reads a camt.029 answering the task `taskId`: the resolved case must be the one AFRC sent (the
 * task id without hyphens), the status one of CNCL, RJCR or PDCR. A malformed or foreign message
 * is a ValidationError at the dotted element path (Document.RsltnOfInvstgtn.Sts.Conf).
 */
export function readCamt029(xml: string, taskId: string): Resolution {
  if (xml.trim() === '') refuse(ROOT, 'the body is empty');
  if (/<!DOCTYPE/i.test(xml)) refuse(ROOT, 'a document type declaration is not accepted');
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) refuse(ROOT, `not well-formed XML (line ${wellFormed.err.line}, column ${wellFormed.err.col}): ${wellFormed.err.msg}`);

  const parsed = parser.parse(xml) as Node;
  const rootKey = Object.keys(parsed).find((k) => k.replace(/^[^:]*:/, '') === ROOT);
  if (!rootKey) refuse(ROOT, 'the root element must be Document');
  const root = parsed[rootKey] as Node | string;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) refuse(ROOT, 'must be an element with content');
  const prefix = rootKey.includes(':') ? rootKey.slice(0, rootKey.indexOf(':')) : null;
  const namespace = root[prefix ? `@_xmlns:${prefix}` : '@_xmlns'];
  if (typeof namespace !== 'string' || !CAMT029_NAMESPACE.test(namespace)) {
    refuse(`${ROOT}.@xmlns`, `must be a camt.029 namespace (urn:iso:std:iso:20022:tech:xsd:camt.029.001.NN), not ${JSON.stringify(namespace ?? null)}`);
  }

  const doc = withoutPrefixes(root) as Node;
  const resolutionPath = `${ROOT}.RsltnOfInvstgtn`;
  const resolution = element(doc, 'RsltnOfInvstgtn', ROOT);
  const caseNode = element(resolution, 'RslvdCase', resolutionPath);
  const caseId = text(caseNode, 'Id', `${resolutionPath}.RslvdCase`);
  if (caseId !== isoCaseId(taskId)) {
    refuse(`${resolutionPath}.RslvdCase.Id`, `names case ${caseId}, not this task's case ${isoCaseId(taskId)}`);
  }
  const status = element(resolution, 'Sts', resolutionPath);
  const conf = text(status, 'Conf', `${resolutionPath}.Sts`);

  // The reason and its narrative, where a bank gives them: CxlDtls.TxInfAndSts.CxlStsRsnInf.
  const detailsPath = `${resolutionPath}.CxlDtls`;
  const details = optionalElement(resolution, 'CxlDtls', resolutionPath);
  const tx = details && optionalElement(details, 'TxInfAndSts', detailsPath);
  const reasonInfo = tx && optionalElement(tx, 'CxlStsRsnInf', `${detailsPath}.TxInfAndSts`);
  const reasonPath = `${detailsPath}.TxInfAndSts.CxlStsRsnInf`;
  const reasonNode = reasonInfo && optionalElement(reasonInfo, 'Rsn', reasonPath);
  const reason = optionalText(reasonNode, 'Cd', `${reasonPath}.Rsn`) ?? optionalText(reasonNode, 'Prtry', `${reasonPath}.Rsn`);
  const info = reasonInfo?.AddtlInf;
  const narrative = (Array.isArray(info) ? info : info === undefined ? [] : [info]).filter((x): x is string => typeof x === 'string').join(' ');
  const note = (s: string) => `camt.029 ${s}${narrative ? `: ${narrative}` : ''}`.slice(0, 4000);

  switch (conf) {
    case 'CNCL':
      return { kind: 'result', status: 'CNCL', outcome: 'frozen', reason, note: note('CNCL') };
    case 'RJCR': {
      const outcome = reason !== null && FUNDS_MOVED_REASONS.includes(reason) ? 'funds_moved' : 'not_found';
      return { kind: 'result', status: 'RJCR', outcome, reason, note: note(`RJCR${reason ? ` ${reason}` : ''}`) };
    }
    case 'PDCR':
      return { kind: 'pending', status: 'PDCR', note: note('PDCR') };
    default:
      return refuse(`${resolutionPath}.Sts.Conf`, `${JSON.stringify(conf)} is not taken: answer CNCL, RJCR or PDCR`);
  }
}

/**
 * The result a camt.029 records on an interception of `amountMinor`: CNCL stops the whole amount
 * (frozen), RJCR is funds_moved or not_found by its reason (see FUNDS_MOVED_REASONS).
 */
export function resultOfResolution(resolution: Extract<Resolution, { kind: 'result' }>, amountMinor: number): TaskResultBody {
  const note = resolution.note ?? undefined;
  if (resolution.outcome === 'frozen') return { outcome: 'frozen', frozenMinor: amountMinor, note };
  return { outcome: resolution.outcome, note };
}

/** camt.029 answers interceptions; any other task kind is refused at the message's root. */
export function assertRecallTask(kind: string): void {
  if (kind !== 'intercept_funds') refuse(`${ROOT}.RsltnOfInvstgtn`, `a camt.029 answers an interception (intercept_funds), not a ${kind} task`);
}
