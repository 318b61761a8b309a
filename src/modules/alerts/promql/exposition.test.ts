import { describe, expect, it } from 'vitest';
import { ExpositionError, parseExposition } from './exposition.ts';

describe('parseExposition', () => {
  it('when /metrics has histograms, escapes and special values, then every sample keeps its labels and value', () => {
    const text = [
      '# HELP http_server_request_duration_seconds Duration.',
      '# TYPE http_server_request_duration_seconds histogram',
      'http_server_request_duration_seconds_bucket{le="0.1",route="/v1/actions",method="POST"} 12',
      'http_server_request_duration_seconds_bucket{le="+Inf",route="/v1/actions",method="POST"} 14',
      'airlock_note{text="a \\"quoted\\" \\\\ value\\nnext"} -3.5e-2',
      'airlock_up 1',
      'airlock_gauge{a="b",} NaN',
      'airlock_big +Inf',
    ].join('\n');
    const samples = parseExposition(text);
    expect(samples).toHaveLength(6);
    expect(samples[1]).toEqual({
      labels: {
        __name__: 'http_server_request_duration_seconds_bucket',
        le: '+Inf',
        route: '/v1/actions',
        method: 'POST',
      },
      value: 14,
    });
    expect(samples[2]).toEqual({
      labels: { __name__: 'airlock_note', text: 'a "quoted" \\ value\nnext' },
      value: -0.035,
    });
    expect(samples[3]).toEqual({ labels: { __name__: 'airlock_up' }, value: 1 });
    expect(samples[4]!.value).toBeNaN();
    expect(samples[5]!.value).toBe(Infinity);
  });

  it('when a filter is given, then only the metrics it keeps are parsed', () => {
    const samples = parseExposition('a 1\nb 2\nc{x="y"} 3', (name) => name !== 'b');
    expect(samples.map((s) => s.labels.__name__)).toEqual(['a', 'c']);
  });

  it('when a line is malformed, then the error names the line', () => {
    expect(() => parseExposition('ok 1\nbad{x="y} 2')).toThrow(ExpositionError);
    expect(() => parseExposition('ok 1\nbad{x="y} 2')).toThrow(/line 2/);
    expect(() => parseExposition('x 1\ny abc')).toThrow(/line 2: invalid value/);
  });
});
