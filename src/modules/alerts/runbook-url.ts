// runbook_url as a pager shows it: clickable, so absolute.
/** A relative runbook_url (runbooks/<Alert>.md) is made absolute when a base URL is known. */
export function runbookUrl(annotation: string | undefined, base: string | undefined): string | null {
  if (!annotation) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(annotation) || !base) return annotation;
  return new URL(annotation, base.endsWith('/') ? base : `${base}/`).toString();
}
