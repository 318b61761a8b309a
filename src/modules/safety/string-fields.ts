// Every string inside a JSON-like value, with the path that names it in evidence
// ("arguments.items[2].note", 'arguments["x-id"]'). Bounded, because arguments come from
// the caller: past `maxDepth` levels or `maxFields` strings the walk stops, and the
// caller is told so it can fail closed.

export interface StringField {
  path: string;
  value: string;
}

export interface StringFieldWalk {
  fields: StringField[];
  // True when the limits cut the walk short.
  truncated: boolean;
}

export interface StringFieldLimits {
  maxDepth?: number;
  maxFields?: number;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function collectStringFields(
  value: unknown,
  rootPath: string,
  limits: StringFieldLimits = {},
): StringFieldWalk {
  const maxDepth = limits.maxDepth ?? 16;
  const maxFields = limits.maxFields ?? 1000;
  const walk: StringFieldWalk = { fields: [], truncated: false };

  const visit = (node: unknown, path: string, depth: number): void => {
    if (walk.fields.length >= maxFields) {
      walk.truncated = true;
      return;
    }
    if (typeof node === 'string') {
      walk.fields.push({ path, value: node });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (depth >= maxDepth) {
      walk.truncated = true;
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, `${path}[${index}]`, depth + 1));
      return;
    }
    for (const [key, child] of Object.entries(node)) visit(child, childPath(path, key), depth + 1);
  };

  visit(value, rootPath, 0);
  return walk;
}

function childPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}
