import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../platform/canonical-json.ts';
import { chainHash, contentHash, GENESIS_HASH, hashEvent, type AuditEvent } from './audit.repository.ts';

interface VectorEvent extends AuditEvent {
  canonical_content: string;
  content_hash: string;
  chain_input: string;
}

interface AuditHashVectors {
  genesis_hash: string;
  chains: Array<{ tenant_id: string; events: VectorEvent[] }>;
}

const AUDIT_HASH_VECTORS_FILE = path.resolve(import.meta.dirname, '../../../docs/audit-hash-vectors.json');

function readAuditHashVectors(): AuditHashVectors {
  return JSON.parse(readFileSync(AUDIT_HASH_VECTORS_FILE, 'utf8')) as AuditHashVectors;
}

// The published vectors (docs/audit-hash-vectors.json) are the hash format's contract with
// outside verifiers: if the code stops reproducing them, either the code is wrong or the
// format changed and every stored chain with it.
describe('audit hash test vectors', () => {
  const vectors = readAuditHashVectors();
  const cases = vectors.chains.flatMap((chain) =>
    chain.events.map(
      (event) =>
        [`${chain.tenant_id.slice(0, 8)} seq ${event.seq} ${event.type}`, chain.tenant_id, event] as const,
    ),
  );

  it('when the file is read, then it has the genesis hash, several chains and the edge cases it documents', () => {
    expect(vectors.genesis_hash).toBe(GENESIS_HASH);
    expect(vectors.chains.length).toBeGreaterThanOrEqual(2);
    const contents = cases.map(([, , event]) => event.canonical_content).join('\n');
    // Keys sorted by UTF-16 code unit: the emoji (a surrogate pair, 0xD83D...) before U+FF71.
    expect(contents.indexOf('"😀"')).toBeLessThan(contents.indexOf('"ｱ"'));
    expect(contents).toContain('1e+21');
    expect(contents).toContain('\\u0001');
  });

  it.each(cases)(
    'when %s is hashed, then the canonical content, content hash and chain hash match the vector',
    (_name, tenantId, event) => {
      const content = {
        action_id: event.action_id,
        type: event.type,
        actor: event.actor,
        data: event.data,
        created_at: event.created_at,
      };
      expect(canonicalJson({ tenant_id: tenantId, ...content })).toBe(event.canonical_content);
      expect(sha256Hex(Buffer.from(event.canonical_content, 'utf8'))).toBe(event.content_hash);
      expect(contentHash(tenantId, content)).toBe(event.content_hash);
      expect(event.chain_input).toBe(`${event.prev_hash}:${event.seq}:${event.content_hash}`);
      expect(chainHash(event.prev_hash, event.seq, event.content_hash)).toBe(event.hash);
      expect(hashEvent(tenantId, { ...content, seq: event.seq, prev_hash: event.prev_hash })).toBe(
        event.hash,
      );
    },
  );

  it('when each chain is walked, then every event links to the previous hash from genesis, and the same content in another tenant hashes differently', () => {
    for (const chain of vectors.chains) {
      let prev = vectors.genesis_hash;
      chain.events.forEach((event, i) => {
        expect(event.seq).toBe(i + 1);
        expect(event.prev_hash).toBe(prev);
        prev = event.hash;
      });
    }
    const [a, b] = vectors.chains as [AuditHashVectors['chains'][0], AuditHashVectors['chains'][0]];
    const { canonical_content: _a, content_hash: contentA, ...restA } = a.events[0]!;
    const { canonical_content: _b, content_hash: contentB, ...restB } = b.events[0]!;
    expect({ ...restA, hash: '', chain_input: '' }).toEqual({ ...restB, hash: '', chain_input: '' });
    expect(contentA).not.toBe(contentB);
  });
});
