// Spike: from nothing to five times the peak in 10 s, held for a minute, then back. The
// service sheds what it cannot serve in time and recovers without a review flood.
//   k6 run -e PEAK_RPS=100 load-tests/spike.js
import { PEAK_RPS, iteration, setupTenant, summary, thresholds } from './lib.js';

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: 0,
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 1500,
      stages: [
        { target: PEAK_RPS * 5, duration: '10s' },
        { target: PEAK_RPS * 5, duration: __ENV.DURATION || '1m' },
        { target: 0, duration: '10s' },
        { target: 0, duration: '20s' },
      ],
    },
  },
  thresholds: thresholds({ sheddingExpected: true }),
};

export const setup = () => setupTenant('spike');
export default function (data) {
  iteration(data);
}
export const handleSummary = (data) => summary('spike', data);
