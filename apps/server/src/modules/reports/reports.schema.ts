import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';

export const REPORT_REASONS = [
  'spam',
  'harassment',
  'hate',
  'violence',
  'sexual_content',
  'self_harm',
  'misinformation',
  'illegal',
  'other',
] as const;
export const TARGET_TYPES = ['post', 'comment', 'message', 'user'] as const;
export const REPORT_ACTIONS = ['dismiss', 'remove', 'warn', 'suspend', 'ban'] as const;
export const APPEAL_ACTIONS = ['uphold', 'overturn'] as const;

const L = Type.Literal;
export const ReportReason = Type.Union(
  [
    L('spam'),
    L('harassment'),
    L('hate'),
    L('violence'),
    L('sexual_content'),
    L('self_harm'),
    L('misinformation'),
    L('illegal'),
    L('other'),
  ],
  { description: 'Why the thing is reported (a fixed list)' },
);
export const TargetType = Type.Union([L('post'), L('comment'), L('message'), L('user')]);
const ReportDecision = Type.Union([L('dismiss'), L('remove'), L('warn'), L('suspend'), L('ban')]);
export const CaseAction = Type.Union([...ReportDecision.anyOf, L('uphold'), L('overturn')]);
const Stage = Type.Union([L('report'), L('appeal')]);
const Status = Type.Union([L('open'), L('resolved')]);
const Role = Type.Union([L('user'), L('moderator'), L('admin')]);
/** Plain text, at most 1000 characters; never interpreted as markup. */
const Note = Type.String({ maxLength: 1000 });

export const CreateReportBody = Type.Object(
  {
    targetType: TargetType,
    targetId: Uuid,
    reason: ReportReason,
    note: Type.Optional(Note),
  },
  { additionalProperties: false },
);

export const ReportReceipt = Type.Object(
  {
    reportId: Uuid,
    /** true when this user had reported the same thing already: their first report stands. */
    duplicate: Type.Boolean(),
  },
  { additionalProperties: false },
);

const SnapshotAuthor = Type.Object(
  { id: Uuid, username: Type.String({ maxLength: 64 }), displayName: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);
const ContextMessage = Type.Object(
  {
    id: Uuid,
    seq: Type.Integer({ minimum: 1 }),
    senderUsername: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    body: Type.String({ maxLength: 4000 }),
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

/** What was reported, as it was when first reported (kept even if it was deleted since). */
export const Snapshot = Type.Object(
  {
    capturedAt: Timestamp,
    author: Type.Union([SnapshotAuthor, Type.Null()]),
    text: Type.String({ maxLength: 10_000 }),
    mediaIds: Type.Array(Uuid, { maxItems: 4 }),
    createdAt: Type.Union([Timestamp, Type.Null()]),
    editedAt: Type.Union([Timestamp, Type.Null()]),
    context: Type.Object(
      {
        post: Type.Optional(
          Type.Object(
            {
              id: Uuid,
              authorUsername: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
              text: Type.String({ maxLength: 10_000 }),
            },
            { additionalProperties: false },
          ),
        ),
        conversationId: Type.Optional(Uuid),
        /** The reported message's place in its conversation (its neighbours are in `messages`). */
        seq: Type.Optional(Type.Integer({ minimum: 1 })),
        messages: Type.Optional(Type.Array(ContextMessage, { maxItems: 10 })),
        displayName: Type.Optional(Type.String({ maxLength: 200 })),
        visibility: Type.Optional(Type.String({ maxLength: 16 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SnapshotView = Static<typeof Snapshot>;

export const CaseSummary = Type.Object(
  {
    id: Uuid,
    targetType: TargetType,
    targetId: Uuid,
    stage: Stage,
    status: Status,
    reasons: Type.Array(ReportReason, { maxItems: REPORT_REASONS.length }),
    reporterCount: Type.Integer({ minimum: 1 }),
    author: Type.Union([SnapshotAuthor, Type.Null()]),
    excerpt: Type.String({ maxLength: 200 }),
    createdAt: Timestamp,
    queuedAt: Timestamp,
    resolvedAt: Type.Union([Timestamp, Type.Null()]),
    action: Type.Union([CaseAction, Type.Null()]),
  },
  { additionalProperties: false },
);

export const QueueQuery = Type.Object(
  {
    status: Type.Optional(Status),
    reason: Type.Optional(ReportReason),
    targetType: Type.Optional(TargetType),
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

export const QueuePage = Type.Object(
  {
    items: Type.Array(CaseSummary, { maxItems: 50 }),
    nextCursor: Type.Union([Cursor, Type.Null()]),
  },
  { additionalProperties: false },
);

export const CaseDetail = Type.Object(
  {
    ...CaseSummary.properties,
    snapshot: Snapshot,
    reports: Type.Array(
      Type.Object(
        {
          reporterId: Uuid,
          reporterUsername: Type.String({ maxLength: 64 }),
          reason: ReportReason,
          note: Type.String({ maxLength: 1000, description: 'Plain text as the reporter typed it' }),
          createdAt: Timestamp,
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
    current: Type.Object(
      {
        contentLive: Type.Boolean({ description: 'The thing is still there (not deleted or removed)' }),
        authorRole: Type.Union([Role, Type.Null()]),
        authorBanned: Type.Boolean(),
        authorSuspendedUntil: Type.Union([Timestamp, Type.Null()]),
        priorSanctions: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    resolution: Type.Union([
      Type.Object(
        {
          action: CaseAction,
          note: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
          resolvedBy: Type.Union([Uuid, Type.Null()]),
          resolvedAt: Timestamp,
          suspendedUntil: Type.Union([Timestamp, Type.Null()]),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    appeal: Type.Union([
      Type.Object(
        {
          text: Type.String({ maxLength: 1000 }),
          appealedAt: Timestamp,
          decision: ReportDecision,
          decidedBy: Type.Union([Uuid, Type.Null()]),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    /** Whether the caller may decide this case (not their own report, not staff content they may not touch, …). */
    canAct: Type.Boolean(),
    /** Why not, when canAct is false. */
    cannotActReason: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type CaseDetailView = Static<typeof CaseDetail>;

export const CaseParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const ResolveBody = Type.Object(
  {
    action: CaseAction,
    note: Type.Optional(
      Type.String({
        maxLength: 1000,
        description: 'Why: told to the reported user (required for every action but dismiss)',
      }),
    ),
    durationHours: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 8760, description: 'How long a suspension lasts' }),
    ),
  },
  { additionalProperties: false },
);

export const AppealBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);

/** A decision as the reported user sees it: what, why, until when, and whether they may appeal. */
export const ModerationNotice = Type.Object(
  {
    caseId: Uuid,
    targetType: TargetType,
    excerpt: Type.String({ maxLength: 200 }),
    reasons: Type.Array(ReportReason, { maxItems: REPORT_REASONS.length }),
    action: Type.Union([CaseAction, Type.Null()]),
    note: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
    decidedAt: Type.Union([Timestamp, Type.Null()]),
    suspendedUntil: Type.Union([Timestamp, Type.Null()]),
    appeal: Type.Object(
      {
        state: Type.Union([L('available'), L('pending'), L('decided'), L('unavailable')]),
        text: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ModerationNoticeView = Static<typeof ModerationNotice>;

const LinkToken = Type.String({ minLength: 1, maxLength: 100, pattern: '^[0-9]+\\.[A-Za-z0-9_-]+$' });
export const NoticeLinkQuery = Type.Object({ token: LinkToken }, { additionalProperties: false });
export const AppealByLinkBody = Type.Object(
  { token: LinkToken, text: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
