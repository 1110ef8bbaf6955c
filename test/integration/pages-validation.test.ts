import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD } from '../helpers/factories';
import { interceptTask } from '../helpers/lifecycle';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

/** The text of each field's message on a page. */
const fieldErrors = (html: string): string[] =>
  [...html.matchAll(/<p class="field-error"[^>]*><span aria-hidden="true">⚠ <\/span>([^<]*)<\/p>/g)].map((m) => m[1]!);
const ZOD = /Too small|Too big|Invalid input|Invalid option|expected string|received undefined/;
const CJK = /[\u4e00-\u9fff]/;

async function signedIn(role: 'admin' | 'liaison' | 'desk_officer', lang: string, institutionId?: string) {
  const user = await t.factories.user({ role, institutionId });
  const s = pageSession(t.app, lang);
  await s.login(user.username, FACTORY_PASSWORD);
  return s;
}

describe('every form answers in the page\'s language, each problem beside its field', () => {
  it('admin: institution, user and API client forms in Chinese', async () => {
    const s = await signedIn('admin', 'zh-CN');
    const inst = await s.submit('/admin/institutions', '/admin/institutions', {
      id: 'Bad Id', name: '', kind: 'bank', integration: 'webhook', messageFormat: 'json', webhookUrl: 'http://10.0.0.1/x', routes: 'bank_account 62x\nnope 1',
    });
    expect(inst.status).toBe(400);
    const instErrors = fieldErrors(inst.text);
    expect(instErrors).toEqual(expect.arrayContaining([
      '应为 2–40 位小写字母、数字和连字符。', '请填写此项。', '地址必须指向互联网上的公网地址。',
    ]));
    expect(instErrors.join(' ')).toContain('第 2 行：“nope”不是线索类型。');
    expect(instErrors.join(' ')).toContain('第 1 行：账号前缀只能包含数字。');

    const user = await s.submit('/admin/users', '/admin/users', { username: 'x', displayName: '', role: 'partner_system', password: 'short', institutionId: '' });
    expect(user.status).toBe(400);
    expect(fieldErrors(user.text)).toEqual(expect.arrayContaining(['至少 3 个字符。', '至少 12 个字符。', '请填写此项。', '个人用户不能使用合作方系统角色，请改为创建 API 客户端。']));

    const client = await s.submit('/admin/api-clients', '/admin/api-clients', { institutionId: '', name: '' });
    expect(client.status).toBe(400);
    for (const page of [inst, user, client]) {
      for (const m of fieldErrors(page.text)) {
        expect(m).toMatch(CJK);
        expect(m).not.toMatch(ZOD);
      }
    }
  });

  it('a liaison\'s task result in Chinese: the schema\'s and the task\'s rules, no English', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor: 1_000_000, enqueue: false });
    const s = await signedIn('liaison', 'zh-CN', bank.id);
    const empty = await s.submit(`/tasks/${task.id}`, `/tasks/${task.id}/result`, { version: String(task.version), outcome: '' });
    expect(empty.status).toBe(400);
    expect(fieldErrors(empty.text)).toEqual(['请从选项中选择。']);
    const above = await s.submit(`/tasks/${task.id}`, `/tasks/${task.id}/result`, { version: String(task.version), outcome: 'frozen', frozen: '20,000.00' });
    expect(above.status).toBe(400);
    expect(fieldErrors(above.text)).toEqual(['冻结金额不能超过任务金额。']);
  });

  it('the same forms in English keep the center\'s own sentences, never zod\'s', async () => {
    const s = await signedIn('admin', 'en');
    const user = await s.submit('/admin/users', '/admin/users', { username: 'x', displayName: '', role: 'desk_officer', password: 'short', institutionId: '' });
    expect(fieldErrors(user.text)).toEqual(expect.arrayContaining(['At least 3 characters.', 'At least 12 characters.', 'Fill in this field.']));
    for (const m of fieldErrors(user.text)) expect(m).not.toMatch(ZOD);
  });
});
