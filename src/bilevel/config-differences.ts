// Differences between two JSON values (a checkpoint's run identity and the current one, or two run folders' protocols) as readable lines.

/** One line per path (like config.seed) where two JSON values differ, written by `line` from the path and both values. */
export function jsonDifferences(a: unknown, b: unknown, line: (path: string, a: unknown, b: unknown) => string, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => jsonDifferences(a[k], b[k], line, path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [line(path || '(value)', a, b)];
}

/** Differences between two JSON values as 'path: a in the checkpoint, b now' lines (paths like config.seed). */
export function configDifferences(saved: unknown, now: unknown, path = ''): string[] {
  const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));
  return jsonDifferences(saved, now, (p, s, n) => `${p}: ${show(s)} in the checkpoint, ${show(n)} now`, path);
}
