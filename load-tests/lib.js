// Shared by every k6 suite: setup (a tenant and keys of its own), one iteration of the
// workload (workload.js, the same definition `npm run bench` uses), thresholds from the
// SLOs, and a summary file. Type-checked with @types/k6 (load-tests/tsconfig.json).
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import * as workload from './workload.js';

export const BASE_URL = __ENV.BASE_URL || __ENV.AIRLOCK_URL || 'http://127.0.0.1:8080';
// The peak arrival rate (requests per second, all endpoints) the suites scale from.
export const PEAK_RPS = Number(__ENV.PEAK_RPS || 100);

// Benign proposals answered with anything but allow: a decision that changed under load.
export const degraded = new Rate('proposals_degraded');
// Attacks that were allowed: must stay at zero.
export const attacksAllowed = new Rate('attacks_allowed');
// Refusals by admission control (503 overloaded): expected under stress, counted apart.
export const shed = new Counter('proposals_shed');
// 5xx other than a shed, and transport errors: never expected.
export const unexpected = new Rate('unexpected_failures');

const jsonHeaders = (key, extra) =>
  Object.assign({ authorization: `Bearer ${key}`, 'content-type': 'application/json' }, extra || {});

function uuid() {
  // RFC 4122 version 4 from Math.random: unique enough for Idempotency-Keys in one run.
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

// Creates the suite's own tenant and keys through the operator endpoint
// (POST /v1/operator/keys, enabled by AIRLOCK_OPERATOR_TOKEN on the service), sets the
// workload's policy, and creates a few actions to read and one to report.
export function setupTenant(suite) {
  const token = __ENV.AIRLOCK_OPERATOR_TOKEN;
  if (!token) throw new Error('set AIRLOCK_OPERATOR_TOKEN (the same value as the service)');
  const tenant = `k6-${suite}-${Date.now()}`;
  const keys = {};
  for (const role of ['agent', 'reviewer', 'admin']) {
    const response = http.post(`${BASE_URL}/v1/operator/keys`, JSON.stringify({ tenant, role }), {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      tags: { endpoint: 'setup' },
    });
    if (response.status !== 201)
      throw new Error(`creating the ${role} key: ${response.status} ${response.body}`);
    keys[role] = response.json('key');
  }
  const policy = http.put(`${BASE_URL}/v1/policy`, JSON.stringify(workload.POLICY), {
    headers: jsonHeaders(keys.admin),
    tags: { endpoint: 'setup' },
  });
  if (policy.status !== 200) throw new Error(`setting the policy: ${policy.status} ${policy.body}`);
  const readIds = [];
  for (let i = 0; i < 20; i++) {
    const created = http.post(
      `${BASE_URL}/v1/actions`,
      JSON.stringify(workload.allowPathProposal(Math.random)),
      {
        headers: jsonHeaders(keys.agent, { 'idempotency-key': uuid() }),
        tags: { endpoint: 'setup' },
      },
    );
    readIds.push(created.json('id'));
  }
  const reported = http.post(`${BASE_URL}/v1/actions`, JSON.stringify(workload.reportedProposal()), {
    headers: jsonHeaders(keys.agent, { 'idempotency-key': uuid() }),
    tags: { endpoint: 'setup' },
  });
  return { tenant, keys, readIds, reportedId: reported.json('id') };
}

const isAction = (r) => {
  try {
    const body = r.json();
    return body.object === 'action' && typeof body.id === 'string' && typeof body.decision === 'object';
  } catch {
    return false;
  }
};

function noteFailure(response) {
  const overloaded = response.status === 503 && String(response.body).indexOf('"overloaded"') >= 0;
  unexpected.add(response.status === 0 || (response.status >= 500 && !overloaded));
  return overloaded;
}

// One iteration: one operation drawn from the workload's mix.
export function iteration(data) {
  const op = workload.pickOperation(Math.random);
  if (op === 'read') {
    const id = data.readIds[Math.floor(Math.random() * data.readIds.length)];
    const response = http.get(`${BASE_URL}/v1/actions/${id}`, {
      headers: jsonHeaders(data.keys.agent),
      tags: { endpoint: 'get_action', name: 'GET /v1/actions/{id}' },
    });
    noteFailure(response);
    check(response, { 'GET action is 200 with an action': (r) => r.status === 200 && isAction(r) });
  } else if (op === 'propose') {
    const drawn = workload.proposal(Math.random);
    const response = http.post(`${BASE_URL}/v1/actions`, JSON.stringify(drawn.body), {
      headers: jsonHeaders(data.keys.agent, { 'idempotency-key': uuid() }),
      tags: { endpoint: 'post_action', name: 'POST /v1/actions' },
    });
    if (noteFailure(response)) {
      shed.add(1);
      check(response, {
        'a shed proposal carries Retry-After': (r) => Number(r.headers['Retry-After']) >= 1,
      });
      return;
    }
    check(response, { 'POST action is 201 with an action': (r) => r.status === 201 && isAction(r) });
    if (response.status === 201) {
      const action = /** @type {{ decision: { outcome: string } }} */ (JSON.parse(String(response.body)));
      if (drawn.attack) attacksAllowed.add(action.decision.outcome === 'allow');
      else degraded.add(workload.isDegraded(false, action));
    }
  } else if (op === 'review') {
    const response = http.get(`${BASE_URL}/v1/reviews?limit=5`, {
      headers: jsonHeaders(data.keys.reviewer),
      tags: { endpoint: 'reviews', name: 'GET /v1/reviews' },
    });
    noteFailure(response);
    check(response, {
      'GET reviews is 200 with items': (r) => r.status === 200 && Array.isArray(r.json('items')),
    });
  } else {
    const response = http.post(
      `${BASE_URL}/v1/actions/${data.reportedId}/reports`,
      JSON.stringify(workload.REPORT),
      {
        headers: jsonHeaders(data.keys.agent),
        tags: { endpoint: 'report', name: 'POST /v1/actions/{id}/reports' },
      },
    );
    noteFailure(response);
    check(response, { 'POST report is 201': (r) => r.status === 201 });
  }
}

// Thresholds from the SLOs (workload.SLO). Under stress and spikes shedding is the designed
// answer, so there availability counts only unexpected failures.
export function thresholds(options) {
  const shedding = options && options.sheddingExpected;
  const slo = workload.SLO;
  const t = {
    checks: ['rate>0.99'],
    unexpected_failures: [`rate<${(1 - slo.availability).toFixed(4)}`],
    proposals_degraded: [`rate<${slo.degradedShare}`],
    attacks_allowed: ['rate==0'],
    'http_req_duration{endpoint:post_action}': [`p(95)<${slo.postP99Ms / 2}`, `p(99)<${slo.postP99Ms}`],
    'http_req_duration{endpoint:get_action}': [
      `p(95)<${slo.cachedGetP99Ms / 2}`,
      `p(99)<${slo.cachedGetP99Ms}`,
    ],
  };
  if (!shedding) t.http_req_failed = [`rate<${(1 - slo.availability).toFixed(4)}`];
  return t;
}

// Writes the summary file (summaries/<suite>-<time>.json) and a short text report.
export function summary(suite, data) {
  const metric = (name, field) => {
    const m = data.metrics[name];
    return m && m.values ? m.values[field] : undefined;
  };
  const failed = Object.keys(data.metrics).filter((name) => {
    const th = data.metrics[name].thresholds;
    return th && Object.keys(th).some((k) => !th[k].ok);
  });
  const lines = [
    `suite ${suite}: ${failed.length ? 'FAIL' : 'PASS'}`,
    `  POST /v1/actions p99 ${metric('http_req_duration{endpoint:post_action}', 'p(99)')} ms`,
    `  GET /v1/actions/{id} p99 ${metric('http_req_duration{endpoint:get_action}', 'p(99)')} ms`,
    `  proposals degraded ${metric('proposals_degraded', 'rate')}, shed ${metric('proposals_shed', 'count') || 0}`,
    `  unexpected failures ${metric('unexpected_failures', 'rate')}, checks ${metric('checks', 'rate')}`,
    failed.length ? `  failed thresholds: ${failed.join(', ')}` : '  every threshold held',
  ];
  const file = `${__ENV.SUMMARY_DIR || 'load-tests/summaries'}/${suite}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const out = { stdout: `${lines.join('\n')}\n` };
  out[file] = JSON.stringify(data, null, 2);
  return out;
}
