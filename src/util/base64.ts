// Base64 decoding without Node APIs, for the embedded Wasm modules (atob where available, a table decoder otherwise).

export function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lut = new Uint8Array(128);
  for (let i = 0; i < alphabet.length; i++) lut[alphabet.charCodeAt(i)] = i;
  const clean = b64.replace(/[^A-Za-z0-9+/]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const n =
      (lut[clean.charCodeAt(i)]! << 18) |
      (lut[clean.charCodeAt(i + 1)]! << 12) |
      ((i + 2 < clean.length ? lut[clean.charCodeAt(i + 2)]! : 0) << 6) |
      (i + 3 < clean.length ? lut[clean.charCodeAt(i + 3)]! : 0);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
