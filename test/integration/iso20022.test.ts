import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { testApp, type TestApp } from '../helpers/test-app';
import { blockingTask, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { corpusFiles, corpusPath } from '../helpers/corpora';
import { startWorkers, type WorkerProcess } from '../../workers/main';
import { isoCaseId } from '../../server/standards/iso20022';

// ISO 20022 partners: interceptions go out as camt.056, camt.029 answers come back as results.
// The corpus samples (../shared/corpora/iso20022) are the yardstick for what we send and read.

const SAMPLES_056 = 'iso20022/wire20022/pkg/models/ReturnRequest/swiftSample';
const SAMPLES_029 = 'iso20022/wire20022/pkg/models/ReturnRequestResponse/swiftSample';

type Received = { headers: IncomingMessage['headers']; raw: string };

let t: TestApp;
let workers: WorkerProcess;
let server: Server;
let baseUrl: string;
const received = new Map<string, Received[]>();

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, removeNSPrefix: true });
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const list = received.get(req.url ?? '/') ?? [];
      list.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      received.set(req.url ?? '/', list);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Deliveries go to this test's own receiving server on the loopback address.
  t = await testApp({ ...FAST_WORKERS, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  workers = startWorkers(t.config);
});
// Dropping a test database waits on the other files' clones of the template: give it time.
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await new Promise((resolve) => server.close(resolve));
}, 90_000);

/** Every element path of a parsed document (attributes and text left out), arrays flattened. */
function elementPaths(node: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, at));
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key.startsWith('@_') || key === '#text' || key === '?xml') continue;
      const path = at ? `${at}.${key}` : key;
      out.add(path);
      walk(child, path);
    }
  };
  walk(node, prefix);
  return out;
}

const parseXml = (xml: string) => parser.parse(xml) as Record<string, any>;

async function isoBank(path: string) {
  const secret = 'iso-partner-shared-secret-0123456789';
  const bank = await t.factories.institution({
    kind: 'bank', integration: 'webhook', webhookUrl: `${baseUrl}${path}`, webhookSecret: secret, messageFormat: 'iso20022',
  });
  await workers.pool.sync();
  return { bank, secret };
}

describe('institutions choose their message format', () => {
  it('when an admin creates an institution with messageFormat iso20022, then it is stored and shown; json is the default; anything else is refused at its path', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const iso = await t.api.as(admin).post('/api/v1/institutions')
      .send({ id: 'iso-bank-a', name: 'ISO Bank', kind: 'bank', integration: 'manual', messageFormat: 'iso20022', routes: [] });
    expect(iso.status).toBe(201);
    expect(iso.body.messageFormat).toBe('iso20022');
    expect((await t.db('institutions').where({ id: 'iso-bank-a' }).first()).message_format).toBe('iso20022');

    const plain = await t.api.as(admin).post('/api/v1/institutions').send({ id: 'json-bank-a', name: 'JSON Bank', kind: 'bank', integration: 'manual' });
    expect(plain.status).toBe(201);
    expect(plain.body.messageFormat).toBe('json');

    const bad = await t.api.as(admin).post('/api/v1/institutions')
      .send({ id: 'xml-bank-a', name: 'X', kind: 'bank', integration: 'manual', messageFormat: 'swift-mt' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toContain('messageFormat');
    expect(await t.db('institutions').where({ id: 'xml-bank-a' }).first()).toBeUndefined();

    const switched = await t.api.as(admin).patch('/api/v1/institutions/json-bank-a').send({ messageFormat: 'iso20022' });
    expect(switched.status).toBe(200);
    expect(switched.body.messageFormat).toBe('iso20022');
    expect((await t.api.as(admin).get('/api/v1/institutions/json-bank-a')).body.messageFormat).toBe('iso20022');

    const supervisor = await t.factories.user({ role: 'supervisor' });
    expect((await t.api.as(supervisor).patch('/api/v1/institutions/json-bank-a').send({ messageFormat: 'json' })).status).toBe(403);
  });
});

describe('camt.056 out', () => {
  it('when an interception goes to an ISO 20022 bank, then it is POSTed as a signed camt.056 with reason FRAD, the case id, the amount and the account, carrying the elements of the corpus samples', async () => {
    const { bank, secret } = await isoBank('/camt');
    const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor: 250_075, account: '6222021234567890' });

    await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the camt.056 to be delivered');
    const [call] = received.get('/camt')!;
    expect(call!.headers['content-type']).toMatch(/^application\/xml/);
    expect(call!.headers['x-afrc-task-id']).toBe(task.id);
    expect(call!.headers['x-afrc-signature']).toBe(`sha256=${createHmac('sha256', secret).update(call!.raw).digest('hex')}`);

    const ours = parseXml(call!.raw);
    const request = ours.Document.FIToFIPmtCxlReq;
    const caseId = task.id.replace(/-/g, '');
    expect(caseId).toMatch(/^[0-9a-f]{32}$/);
    expect(request.Assgnmt.Id).toBe(caseId);
    expect(request.Case.Id).toBe(caseId);
    const tx = request.Undrlyg.TxInf;
    expect(tx.CxlRsnInf.Rsn.Cd).toBe('FRAD');
    expect(tx.OrgnlIntrBkSttlmAmt).toEqual({ '#text': '2500.75', '@_Ccy': 'CNY' });
    expect(tx.OrgnlTxRef.CdtrAcct.Id.Othr.Id).toBe('6222021234567890');
    expect(call!.raw).toContain('xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"');

    // The elements every corpus camt.056 has. Two kinds are left out on purpose: how an agent is
    // identified inside FinInstnId (the samples use US ABA clearing numbers; AFRC names a bank by
    // its own id, under Othr), and OrgnlUETR (the victim's payment's UETR is not known to the center).
    const samples = corpusFiles(SAMPLES_056, (n) => n.endsWith('.056')).map((f) => elementPaths(parseXml(readFileSync(f, 'utf8'))));
    expect(samples.length).toBeGreaterThanOrEqual(7);
    const common = [...samples[0]!].filter((p) => samples.every((s) => s.has(p)));
    const expected = common.filter((p) => !/\.FinInstnId\./.test(p) && !p.endsWith('.OrgnlUETR'));
    expect(expected).toEqual(expect.arrayContaining(['Document.FIToFIPmtCxlReq.Undrlyg.TxInf.CxlRsnInf.Rsn.Cd', 'Document.FIToFIPmtCxlReq.Case.Cretr.Agt.FinInstnId']));
    const ourPaths = elementPaths(ours);
    expect(expected.filter((p) => !ourPaths.has(p))).toEqual([]);
    for (const agent of [request.Assgnmt.Assgnr, request.Assgnmt.Assgne, request.Case.Cretr]) {
      expect(agent.Agt.FinInstnId.Othr.Id).toEqual(expect.any(String));
    }
    expect(request.Assgnmt.Assgne.Agt.FinInstnId.Othr.Id).toBe(bank.id);
  });

  it('when a blocking task goes to an ISO 20022 institution, then it is delivered as the JSON task: camt.056 recalls payments only', async () => {
    const { bank } = await isoBank('/camt-json');
    await t.db('institution_routes').insert({ institution_id: bank.id, indicator_kind: 'phone', prefix: '+8617100' });
    const task = await blockingTask(t, { phone: '+8617100009999' });
    await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the blocking task to be delivered');
    const [call] = received.get('/camt-json')!;
    expect(call!.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(call!.raw)).toMatchObject({ id: task.id, kind: 'block_number' });
  });
});

describe('camt.029 in', () => {
  /** A corpus camt.029 answering `taskId`: its case id replaced, its status and reason as given. */
  function camt029From(sample: string, taskId: string, change: (doc: Record<string, any>) => void = () => undefined): string {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false }).parse(readFileSync(corpusPath(SAMPLES_029, sample), 'utf8'));
    doc.Document.RsltnOfInvstgtn.RslvdCase.Id = isoCaseId(taskId);
    change(doc.Document.RsltnOfInvstgtn);
    return builder.build(doc) as string;
  }

  async function manualBankTask(amountMinor = 800_000) {
    const bank = await t.factories.institution({ kind: 'bank', messageFormat: 'iso20022' });
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor, enqueue: false });
    return { bank, liaison, task };
  }

  const postXml = (user: Awaited<ReturnType<typeof t.factories.user>>, taskId: string, xml: string) =>
    t.api.as(user).post(`/api/v1/tasks/${taskId}/result`).set('Content-Type', 'application/xml').send(xml);

  it('when the bank answers CNCL (a corpus sample for its case), then the task is done as frozen for its whole amount, booked once', async () => {
    const { liaison, task } = await manualBankTask(800_000);
    const res = await postXml(liaison, task.id, camt029From('Paymentreturn_Scenario1_Step3_camt.029', task.id));

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: task.id, status: 'done', result: { outcome: 'frozen', frozenMinor: 800_000 } });
    expect(res.body.result.note).toMatch(/^camt\.029 CNCL/);
    const ledger = await t.db('loss_prevention_ledger').where({ task_id: task.id });
    expect(ledger.map((l) => Number(l.amount_minor))).toEqual([800_000]);

    const again = await postXml(liaison, task.id, camt029From('Paymentreturn_Scenario1_Step3_camt.029', task.id));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('task_closed');
    expect(await t.db('loss_prevention_ledger').where({ task_id: task.id })).toHaveLength(1);
  });

  it('when the bank answers RJCR, then the reason decides: the corpus NARR is not_found, AM04 and PTNA are funds_moved', async () => {
    const narr = await manualBankTask();
    const res = await postXml(narr.liaison, narr.task.id, camt029From('Paymentreturn_Scenario2_Step3_camt.029', narr.task.id));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', result: { outcome: 'not_found', frozenMinor: 0 } });
    expect(res.body.result.note).toContain('RJCR NARR');

    for (const code of ['AM04', 'PTNA']) {
      const moved = await manualBankTask();
      const xml = camt029From('Paymentreturn_Scenario2_Step3_camt.029', moved.task.id, (r) => {
        r.CxlDtls.TxInfAndSts.CxlStsRsnInf.Rsn.Cd = code;
      });
      const answer = await postXml(moved.liaison, moved.task.id, xml);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'done', result: { outcome: 'funds_moved' }, childTasks: [] });
    }
    expect(await t.db('loss_prevention_ledger').where({ task_id: narr.task.id })).toHaveLength(0);
  });

  it('when the bank answers PDCR, then nothing is recorded: 202, the task stays open at its version', async () => {
    const { liaison, task } = await manualBankTask();
    const before = await taskRow(t, task.id);
    const xml = camt029From('Paymentreturn_Scenario1_Step3_camt.029', task.id, (r) => { r.Sts.Conf = 'PDCR'; });
    const res = await postXml(liaison, task.id, xml);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ taskId: task.id, resolution: 'PDCR', recorded: false, task: { id: task.id, status: before.status } });
    const after = await taskRow(t, task.id);
    expect(after.status).toBe(before.status);
    expect(after.version).toBe(before.version);
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(0);
  });

  it('when the message is malformed, foreign, for another case or of a status not taken, then it is 400 validation_failed at its element path and nothing changes', async () => {
    const { liaison, task } = await manualBankTask();
    const cases: [string, string][] = [
      ['<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.029.001.09"><RsltnOfInvstgtn>', 'Document'],
      [readFileSync(corpusPath(SAMPLES_056, 'PaymentReturn_Scenario1_Step2_camt.056'), 'utf8'), 'Document.@xmlns'],
      [camt029From('Paymentreturn_Scenario1_Step3_camt.029', task.id, (r) => { r.RslvdCase.Id = '20250310011104238Sc01Step1MsgIdDUPL'; }), 'Document.RsltnOfInvstgtn.RslvdCase.Id'],
      [camt029From('Paymentreturn_Scenario3_Step3_camt.029', task.id), 'Document.RsltnOfInvstgtn.Sts.Conf'],
      [camt029From('Paymentreturn_Scenario1_Step3_camt.029', task.id, (r) => { delete r.Sts; }), 'Document.RsltnOfInvstgtn.Sts'],
      ['<!DOCTYPE x [<!ENTITY a "b">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.029.001.09"/>', 'Document'],
    ];
    for (const [xml, path] of cases) {
      const res = await postXml(liaison, task.id, xml);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 400, code: 'validation_failed' });
      expect(res.body.error.details[0].path).toBe(path);
    }
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(0);
    expect(['queued', 'dispatched']).toContain((await taskRow(t, task.id)).status);
    expect(await t.db('events').where({ task_id: task.id }).whereLike('type', '%result%')).toHaveLength(0);
  });

  it('when someone other than the bank answers, then another institution gets 404, center staff 403, and a camt.029 for a blocking task is refused', async () => {
    const { task } = await manualBankTask();
    const other = await t.factories.institution({ kind: 'bank' });
    const stranger = await t.factories.user({ role: 'liaison', institutionId: other.id });
    const xml = camt029From('Paymentreturn_Scenario1_Step3_camt.029', task.id);
    expect((await postXml(stranger, task.id, xml)).status).toBe(404);
    expect((await postXml(await t.factories.user({ role: 'desk_officer' }), task.id, xml)).status).toBe(403);
    expect((await t.api.raw().post(`/api/v1/tasks/${task.id}/result`).set('Content-Type', 'application/xml').send(xml)).status).toBe(401);
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(0);

    const carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+8617300' }] });
    const carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
    const blocking = await blockingTask(t, { phone: '+8617300001111', enqueue: false });
    const refused = await postXml(carrierLiaison, blocking.id, camt029From('Paymentreturn_Scenario1_Step3_camt.029', blocking.id));
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].path).toBe('Document.RsltnOfInvstgtn');
  });

  it('when XML is sent to another route, then it is 415', async () => {
    const officer = await t.factories.user({ role: 'desk_officer' });
    const res = await t.api.as(officer).post('/api/v1/reports').set('Content-Type', 'application/xml').send('<a/>');
    expect(res.status).toBe(415);
  });
});
