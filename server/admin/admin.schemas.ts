import { z } from 'zod';
import { IndicatorKind, InstitutionKind, Integration, MessageFormat, Role } from '../domain/kinds';

export const InstitutionId = z.string().regex(/^[a-z0-9-]{2,40}$/, 'a slug of 2–40 lower-case letters, digits and hyphens');

const WebhookUrl = z.url({ protocol: /^https?$/, error: 'an http or https URL' }).max(2048);
const WebhookSecret = z.string().min(16, 'at least 16 characters').max(256);

export const RouteInput = z.object({
  indicatorKind: IndicatorKind,
  prefix: z.string().max(128).default(''),
});
export type RouteInput = z.infer<typeof RouteInput>;

const Routes = z.array(RouteInput).max(1000);

export const CreateInstitutionBody = z
  .object({
    id: InstitutionId,
    name: z.string().trim().min(1).max(200),
    kind: InstitutionKind,
    integration: Integration,
    webhookUrl: WebhookUrl.optional(),
    webhookSecret: WebhookSecret.optional(),
    messageFormat: MessageFormat.default('json').describe('iso20022: interceptions are delivered as camt.056 and may be answered with camt.029'),
    routes: Routes.default([]),
  })
  .superRefine((b, ctx) => {
    if (b.integration === 'webhook' && !b.webhookUrl) {
      ctx.addIssue({ code: 'custom', path: ['webhookUrl'], message: 'is required for webhook integration' });
    }
  });
export type CreateInstitutionBody = z.infer<typeof CreateInstitutionBody>;

export const UpdateInstitutionBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    active: z.boolean().optional(),
    integration: Integration.optional().describe('how its tasks reach it from now on; the next delivery uses it, without a restart'),
    webhookUrl: WebhookUrl.nullable().optional(),
    webhookSecret: WebhookSecret.nullable().optional(),
    messageFormat: MessageFormat.optional(),
    routes: Routes.optional().describe('replaces every route of the institution'),
  })
  .strict();
export type UpdateInstitutionBody = z.infer<typeof UpdateInstitutionBody>;

export const InstitutionIdParams = z.object({ id: InstitutionId });

export const InstitutionSummary = z.object({
  id: z.string(),
  name: z.string(),
  kind: InstitutionKind,
  integration: Integration,
  active: z.boolean(),
});

export const InstitutionList = z.object({ items: z.array(InstitutionSummary), nextCursor: z.null() });

export const InstitutionDetail = InstitutionSummary.extend({
  messageFormat: MessageFormat,
  webhookUrl: z.string().nullable(),
  hasWebhookSecret: z.boolean(),
  routes: z.array(z.object({ indicatorKind: IndicatorKind, prefix: z.string() })),
});

export const CreatedInstitution = InstitutionDetail.extend({
  webhookSecret: z.string().optional().describe('only when the server generated it; shown once'),
});

const Username = z
  .string()
  .trim()
  .min(3)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only');

const Password = z.string().min(12, 'at least 12 characters').max(200);

/** A person's role: partner_system belongs to machine clients (API clients), never to a person. */
const PersonRole = Role.refine((r) => r !== 'partner_system', 'partner_system is the role of a machine client, never a person: create an API client instead');

export const CreateUserBody = z.object({
  username: Username,
  password: Password,
  displayName: z.string().trim().min(1).max(200),
  role: PersonRole,
  institutionId: InstitutionId.nullable().optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UpdateUserBody = z
  .object({
    displayName: z.string().trim().min(1).max(200).optional(),
    password: Password.optional(),
    active: z.boolean().optional(),
    role: PersonRole.optional().describe("ends the user's tokens"),
    institutionId: InstitutionId.nullable().optional().describe("ends the user's tokens"),
  })
  .strict();
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const UserIdParams = z.object({ id: z.uuid() });

export const UserOut = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  institutionId: z.string().nullable(),
});

export const UserListItem = UserOut.extend({ active: z.boolean(), createdAt: z.string() });
export const UserList = z.object({ items: z.array(UserListItem), nextCursor: z.string().nullable() });

export const CreateApiClientBody = z.object({
  institutionId: InstitutionId,
  name: z.string().trim().min(1).max(200),
});
export type CreateApiClientBody = z.infer<typeof CreateApiClientBody>;

export const CreatedApiClient = z.object({
  id: z.string(),
  clientId: z.string(),
  clientSecret: z.string().describe('shown only in this answer; stored only as a hash'),
  institutionId: z.string(),
  name: z.string(),
});

export const ApiClientListItem = z.object({
  id: z.string(),
  clientId: z.string(),
  institutionId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export const ApiClientList = z.object({ items: z.array(ApiClientListItem), nextCursor: z.string().nullable() });

export const ApiClientIdParams = z.object({ id: z.uuid() });
