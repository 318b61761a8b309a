// Smoke: one user for 30 s. Does every endpoint of the workload answer, and answer right?
//   k6 run load-tests/smoke.js   (AIRLOCK_URL, AIRLOCK_OPERATOR_TOKEN)
import { iteration, setupTenant, summary, thresholds } from './lib.js';

export const options = {
  scenarios: { smoke: { executor: 'constant-vus', vus: 1, duration: __ENV.DURATION || '30s' } },
  thresholds: thresholds(),
};

export const setup = () => setupTenant('smoke');
export default function (data) {
  iteration(data);
}
export const handleSummary = (data) => summary('smoke', data);
