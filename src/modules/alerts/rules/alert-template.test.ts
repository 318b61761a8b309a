import { describe, expect, it } from 'vitest';
import { compileTemplate, formatGoFloat, TemplateError } from './alert-template.ts';

describe('alert templates', () => {
  it("when values are formatted, then they read as Go's fmt writes them", () => {
    expect(formatGoFloat(14.4, 'g', 4)).toBe('14.4');
    expect(formatGoFloat(100, 'g', 4)).toBe('100');
    expect(formatGoFloat(0.05, 'g', 4)).toBe('0.05');
    expect(formatGoFloat(12345, 'g', 4)).toBe('1.234e+04');
    expect(formatGoFloat(1_000_000, 'g')).toBe('1e+06');
    expect(formatGoFloat(123456, 'g')).toBe('123456');
    expect(formatGoFloat(0.00001234, 'g')).toBe('1.234e-05');
    expect(formatGoFloat(2.5, 'f', 2)).toBe('2.50');
  });

  it('when a template uses labels, external labels and pipes, then each renders as Prometheus renders it', () => {
    const template = compileTemplate(
      '{{ $labels.queue }}: {{ $value | humanizeDuration }}, {{ $value | humanizePercentage }}, {{ $value | printf "%.0f" }} {{ $externalLabels.runbook_base }}/runbooks/X.md',
    );
    expect(template.render({ queue: 'q' }, 160, { runbook_base: 'http://h:1' })).toBe(
      'q: 2m 40s, 1.6e+04%, 160 http://h:1/runbooks/X.md',
    );
    expect(compileTemplate('{{ $value | humanizeDuration }}').render({}, 0.25)).toBe('250ms');
    expect(compileTemplate('{{ $value }}').render({}, 0.5)).toBe('0.5');
  });

  it('when a template uses anything outside the subset, then it is refused when the rules load', () => {
    expect(() => compileTemplate('{{ range $labels }}x{{ end }}')).toThrow(TemplateError);
    expect(() => compileTemplate('{{ $value | title }}')).toThrow(TemplateError);
    expect(() => compileTemplate('{{ $value | printf "%x" }}')).toThrow(TemplateError);
  });
});

describe('formatGoFloat rounding', () => {
  it('when a value is an exact tie, then it rounds to even as Go does; otherwise to nearest', () => {
    expect(formatGoFloat(12345, 'g', 4)).toBe('1.234e+04');
    expect(formatGoFloat(12355, 'g', 4)).toBe('1.236e+04');
    expect(formatGoFloat(2.5, 'f', 0)).toBe('2');
    expect(formatGoFloat(3.5, 'f', 0)).toBe('4');
    expect(formatGoFloat(0.125, 'f', 2)).toBe('0.12');
    expect(formatGoFloat(1.005, 'f', 2)).toBe('1.00'); // 1.00499999999999989...
    expect(formatGoFloat(176, 'f', 0)).toBe('176');
    expect(formatGoFloat(-0.4, 'f', 0)).toBe('-0');
    expect(formatGoFloat(0.0004, 'f', 2)).toBe('0.00');
    expect(formatGoFloat(99.96, 'f', 1)).toBe('100.0');
  });
});
