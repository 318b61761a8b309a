import { createHash, randomBytes } from 'node:crypto';

export type Role = 'agent' | 'reviewer' | 'admin';
export const ROLES: readonly Role[] = ['agent', 'reviewer', 'admin'];

const KEY_PREFIX = 'alk_';

// 32 random bytes: guessing is hopeless, so a fast hash is enough to keep stored keys
// useless to a reader of the database.
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(KEY_PREFIX) && value.length === KEY_PREFIX.length + 43;
}
