// SHA-256 as lowercase hex through Web Crypto (globalThis.crypto.subtle: Node >= 20 and browsers), so checksummed formats stay portable.

/** The SHA-256 of `data` (a string is hashed as its UTF-8 bytes), as 64 lowercase hex digits. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) {
    throw new Error('SHA-256 needs Web Crypto (globalThis.crypto.subtle): Node >= 20, or a browser page in a secure context (https or localhost)');
  }
  let bytes: Uint8Array<ArrayBuffer>;
  if (typeof data === 'string') bytes = new TextEncoder().encode(data);
  else if (data.buffer instanceof ArrayBuffer) bytes = data as Uint8Array<ArrayBuffer>;
  else bytes = new Uint8Array(data); // a view on shared memory: digest a copy
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
