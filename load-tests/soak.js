// Soak: the peak rate for an hour by default (DURATION=10m for the shorter check). Latency
// and availability hold throughout; RSS, the outbox and the queue are watched on the
// dashboards (Airlock / Overview, Queue and worker) and must not grow.
//   k6 run -e PEAK_RPS=100 -e DURATION=1h load-tests/soak.js
import { PEAK_RPS, iteration, setupTenant, summary, thresholds } from './lib.js';

export const options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: PEAK_RPS,
      timeUnit: '1s',
      duration: __ENV.DURATION || '1h',
      preAllocatedVUs: 50,
      maxVUs: 400,
    },
  },
  thresholds: thresholds(),
};

export const setup = () => setupTenant('soak');
export default function (data) {
  iteration(data);
}
export const handleSummary = (data) => summary('soak', data);
