// Types of scripts/example.mjs for the TypeScript test that builds the examples.
export function buildExample(name: string, outDir?: string): Promise<string>;
