// Types of scripts/playground.mjs for the TypeScript test that starts it.
export function startPlayground(opts?: { port?: number; host?: string }): Promise<{ url: string; close: () => Promise<void> }>;
