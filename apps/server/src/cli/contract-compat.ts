/**
 * Breaking changes between the published OpenAPI document and the current one: what would break
 * a client built against the published contract. Additions (new operations, new optional inputs,
 * new response fields) are fine; removals and new requirements are not.
 */
type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  const?: unknown;
};
type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
};
export type Document = {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function resolver(doc: Document) {
  return (schema: Schema | undefined): Schema | undefined => {
    let current = schema;
    for (let depth = 0; current?.$ref && depth < 10; depth++) {
      const name = current.$ref.split('/').pop() ?? '';
      current = doc.components?.schemas?.[name];
    }
    return current;
  };
}

const jsonBody = (content?: Record<string, { schema?: Schema }>) =>
  content?.['application/json']?.schema ?? Object.values(content ?? {})[0]?.schema;

/** Literal values a schema accepts, when it is an enum or a union of constants. */
function literals(schema: Schema | undefined): unknown[] | undefined {
  if (!schema) return undefined;
  if (schema.enum) return schema.enum;
  if (schema.anyOf?.every((s) => 'const' in s)) return schema.anyOf.map((s) => s.const);
  return undefined;
}

export function breakingChanges(published: Document, current: Document): string[] {
  const problems: string[] = [];
  const was = resolver(published);
  const now = resolver(current);

  /** Response: every property a client may read must still be sent, and enums may not grow. */
  const compareResponse = (where: string, before?: Schema, after?: Schema, depth = 0) => {
    const b = was(before);
    const a = now(after);
    if (!b || !a || depth > 6) return;
    for (const name of b.required ?? []) {
      if (!a.required?.includes(name))
        problems.push(`${where}: response field "${name}" is no longer always sent`);
    }
    for (const [name, prop] of Object.entries(b.properties ?? {})) {
      if (!a.properties?.[name]) problems.push(`${where}: response field "${name}" was removed`);
      else compareResponse(`${where}.${name}`, prop, a.properties[name], depth + 1);
    }
    const [bl, al] = [literals(b), literals(a)];
    if (bl && al?.some((v) => !bl.includes(v)))
      problems.push(`${where}: response may now hold values clients do not know`);
    if (b.items && a.items) compareResponse(`${where}[]`, b.items, a.items, depth + 1);
  };

  /** Request: nothing newly required, nothing accepted before refused now. */
  const compareRequest = (where: string, before?: Schema, after?: Schema, depth = 0) => {
    const b = was(before);
    const a = now(after);
    if (!b || !a || depth > 6) return;
    for (const name of a.required ?? []) {
      if (!b.required?.includes(name)) problems.push(`${where}: "${name}" is newly required`);
    }
    for (const [name, prop] of Object.entries(b.properties ?? {})) {
      if (!a.properties?.[name]) problems.push(`${where}: "${name}" is no longer accepted`);
      else compareRequest(`${where}.${name}`, prop, a.properties[name], depth + 1);
    }
    const [bl, al] = [literals(b), literals(a)];
    if (bl && al && bl.some((v) => !al.includes(v)))
      problems.push(`${where}: a value accepted before is refused now`);
  };

  for (const [path, item] of Object.entries(published.paths ?? {})) {
    for (const method of METHODS) {
      const before = item[method];
      if (!before) continue;
      const name = `${method.toUpperCase()} ${path}`;
      const after = current.paths?.[path]?.[method];
      if (!after) {
        problems.push(`${name}: operation removed`);
        continue;
      }
      for (const param of after.parameters ?? []) {
        const old = before.parameters?.find((p) => p.name === param.name && p.in === param.in);
        if (param.required && !old?.required)
          problems.push(`${name}: ${param.in} parameter "${param.name}" is newly required`);
      }
      if (after.requestBody?.required && !before.requestBody?.required)
        problems.push(`${name}: a body is newly required`);
      compareRequest(
        `${name} body`,
        jsonBody(before.requestBody?.content),
        jsonBody(after.requestBody?.content),
      );
      for (const [status, response] of Object.entries(before.responses ?? {})) {
        if (!status.startsWith('2')) continue;
        const next = after.responses?.[status];
        if (!next) {
          problems.push(`${name}: response ${status} removed`);
          continue;
        }
        compareResponse(`${name} ${status}`, jsonBody(response.content), jsonBody(next.content));
      }
    }
  }
  return problems;
}
