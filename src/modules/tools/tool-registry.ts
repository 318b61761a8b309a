import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { addFormats } from '../../platform/ajv-formats.ts';
import { UnprocessableError } from '../../platform/errors.ts';
import type { ToolDefinition } from './tool-definition.ts';

export interface ToolRegistry {
  names(): readonly string[];
  get(name: string): ToolDefinition | undefined;
  all(): readonly ToolDefinition[];
  // Returns the tool or throws 422 unknown_tool / invalid_arguments naming the failing field.
  validate(name: string, args: unknown): ToolDefinition;
}

export function createToolRegistry(definitions: readonly ToolDefinition[]): ToolRegistry {
  const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false, useDefaults: false });
  addFormats(ajv);
  const tools = new Map<string, { definition: ToolDefinition; validate: ValidateFunction }>();
  for (const definition of definitions) {
    if (tools.has(definition.name)) throw new Error(`tool ${definition.name} is defined twice`);
    tools.set(definition.name, { definition, validate: ajv.compile(definition.argumentsSchema) });
  }
  const names = [...tools.keys()];

  return {
    names: () => names,
    get: (name) => tools.get(name)?.definition,
    all: () => [...tools.values()].map((t) => t.definition),
    validate(name, args) {
      const tool = tools.get(name);
      if (!tool) throw new UnprocessableError('unknown_tool', `There is no tool named "${name}".`);
      if (!tool.validate(args)) {
        const error = tool.validate.errors?.[0];
        const field = fieldOf(error);
        throw new UnprocessableError(
          'invalid_arguments',
          `arguments.${field} ${error?.message ?? 'is invalid'}.`,
          {
            errors: [{ field: `arguments.${field}`, message: error?.message ?? 'is invalid' }],
          },
        );
      }
      return tool.definition;
    },
  };
}

function fieldOf(error: ErrorObject | undefined): string {
  if (!error) return '';
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra =
    (error.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ??
    (error.params as { additionalProperty?: string }).additionalProperty;
  return [path, extra].filter(Boolean).join('.') || '(root)';
}
