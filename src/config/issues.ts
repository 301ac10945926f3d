import type { z } from 'zod';

/**
 * A zod issue as one line, `path.to.key: message`, the shape every config and file-format error
 * takes. Unknown keys name each key in full (`collection.hnsw.mm: unknown key`), so a typo is
 * found without reading the schema.
 */
export function formatZodIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => (path === '(root)' ? key : `${path}.${key}`));
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
  }
  return `${path}: ${issue.message}`;
}

export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map(formatZodIssue);
}
