import type { FastifyRequest } from 'fastify';
import type { Role } from './api-key.ts';
import type { AuthService, Principal } from './auth.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type RoleGuard = (roles: readonly Role[]) => (request: FastifyRequest) => Promise<void>;

// Returns an onRequest hook per role set: authentication happens before the body is even
// parsed, so an anonymous client cannot make us read a megabyte.
export function createRoleGuard(auth: Pick<AuthService, 'authenticate' | 'requireRole'>): RoleGuard {
  return (roles) => async (request) => {
    const principal = await auth.authenticate(request.headers.authorization);
    auth.requireRole(principal, roles);
    request.principal = principal;
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route is missing its role guard');
  return request.principal;
}
