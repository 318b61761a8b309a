// Stress: three times the peak for 5 minutes. Admission control is expected to shed (503
// overloaded with Retry-After); what is admitted must still meet the latency objectives,
// no decision may change, and nothing may fail any other way.
//   k6 run -e PEAK_RPS=100 load-tests/stress.js
import { PEAK_RPS, iteration, setupTenant, summary, thresholds } from './lib.js';

export const options = {
  scenarios: {
    stress: {
      executor: 'ramping-arrival-rate',
      startRate: PEAK_RPS,
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 1000,
      stages: [
        { target: PEAK_RPS * 3, duration: '1m' },
        { target: PEAK_RPS * 3, duration: __ENV.DURATION || '5m' },
        { target: 0, duration: '30s' },
      ],
    },
  },
  thresholds: thresholds({ sheddingExpected: true }),
};

export const setup = () => setupTenant('stress');
export default function (data) {
  iteration(data);
}
export const handleSummary = (data) => summary('stress', data);
