import { describe, expect, it } from 'vitest';
import { breakingChanges, type Document } from './contract-compat.ts';

const doc = (overrides: { body?: object; response?: object; params?: object[] } = {}): Document =>
  JSON.parse(
    JSON.stringify({
      paths: {
        '/api/v1/posts': {
          post: {
            parameters: overrides.params ?? [],
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: overrides.body ?? {
                    type: 'object',
                    required: ['text'],
                    properties: { text: { type: 'string' }, visibility: { enum: ['public', 'friends'] } },
                  },
                },
              },
            },
            responses: {
              '201': {
                content: {
                  'application/json': { schema: overrides.response ?? { $ref: '#/components/schemas/Post' } },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Post: {
            type: 'object',
            required: ['id', 'text'],
            properties: { id: { type: 'string' }, text: { type: 'string' } },
          },
        },
      },
    }),
  );

describe('breakingChanges', () => {
  it('accepts additions: new optional inputs, new response fields, new operations', () => {
    const next = doc({
      body: {
        type: 'object',
        required: ['text'],
        properties: {
          text: { type: 'string' },
          visibility: { enum: ['public', 'friends', 'private'] },
          mediaIds: { type: 'array' },
        },
      },
    });
    next.components!.schemas!.Post!.properties!.media = { type: 'array' };
    next.paths!['/api/v1/feed'] = { get: { responses: {} } };
    expect(breakingChanges(doc(), next)).toEqual([]);
  });

  it('names removals and new requirements', () => {
    const next = doc({
      body: {
        type: 'object',
        required: ['text', 'title'],
        properties: { text: { type: 'string' }, title: {} },
      },
      params: [{ name: 'lang', in: 'query', required: true }],
    });
    delete next.components!.schemas!.Post!.properties!.text;
    next.components!.schemas!.Post!.required = ['id'];
    expect(breakingChanges(doc(), next)).toEqual([
      'POST /api/v1/posts: query parameter "lang" is newly required',
      'POST /api/v1/posts body: "title" is newly required',
      'POST /api/v1/posts body: "visibility" is no longer accepted',
      'POST /api/v1/posts 201: response field "text" is no longer always sent',
      'POST /api/v1/posts 201: response field "text" was removed',
    ]);
    const gone = doc();
    delete gone.paths!['/api/v1/posts'];
    expect(breakingChanges(doc(), gone)).toEqual(['POST /api/v1/posts: operation removed']);
  });

  it('refuses narrowing an accepted enum', () => {
    const next = doc({
      body: {
        type: 'object',
        required: ['text'],
        properties: { text: {}, visibility: { enum: ['public'] } },
      },
    });
    expect(breakingChanges(doc(), next)).toEqual([
      'POST /api/v1/posts body.visibility: a value accepted before is refused now',
    ]);
  });
});
