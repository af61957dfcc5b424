// Differences between two JSON values (a checkpoint's run identity and the current one) as readable lines.

/** Differences between two JSON values as 'path: a in the checkpoint, b now' lines (paths like config.seed). */
export function configDifferences(saved: unknown, now: unknown, path = ''): string[] {
  const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(saved) && isObj(now)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])].sort();
    return keys.flatMap((k) => configDifferences(saved[k], now[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(saved) === JSON.stringify(now) ? [] : [`${path || '(value)'}: ${show(saved)} in the checkpoint, ${show(now)} now`];
}
