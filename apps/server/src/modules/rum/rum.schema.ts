import { Type } from 'typebox';

export const RUM_METRICS = ['LCP', 'INP', 'CLS', 'TTFB', 'FCP'] as const;

/**
 * One Core Web Vitals report from a page: the route *pattern* (e.g. `/posts/$postId`, never a
 * concrete URL, so no ids or usernames) and the metrics measured there. Nothing identifies the
 * person: no user, session, URL, user agent or IP is kept.
 */
export const RumReport = Type.Object(
  {
    route: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^/[A-Za-z0-9/$_.-]*$',
      description: "The client router's route pattern, e.g. `/` or `/posts/$postId`",
    }),
    metrics: Type.Array(
      Type.Object(
        {
          name: Type.Union([
            Type.Literal('LCP'),
            Type.Literal('INP'),
            Type.Literal('CLS'),
            Type.Literal('TTFB'),
            Type.Literal('FCP'),
          ]),
          value: Type.Number({
            minimum: 0,
            maximum: 600_000,
            description: 'Milliseconds (LCP, INP, TTFB, FCP) or the unitless layout-shift score (CLS)',
          }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10 },
    ),
  },
  { additionalProperties: false },
);
