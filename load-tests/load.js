// Load: the peak arrival rate (PEAK_RPS, all endpoints) for 5 minutes; every SLO holds.
//   k6 run -e PEAK_RPS=100 load-tests/load.js
import { PEAK_RPS, iteration, setupTenant, summary, thresholds } from './lib.js';

export const options = {
  scenarios: {
    load: {
      executor: 'constant-arrival-rate',
      rate: PEAK_RPS,
      timeUnit: '1s',
      duration: __ENV.DURATION || '5m',
      preAllocatedVUs: 50,
      maxVUs: 400,
    },
  },
  thresholds: thresholds(),
};

export const setup = () => setupTenant('load');
export default function (data) {
  iteration(data);
}
export const handleSummary = (data) => summary('load', data);
