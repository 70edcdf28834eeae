/**
 * The bytes of an embedded binary (ffi/helper/_embed.ts, ffi/probe/_embed.ts).
 *
 * @module
 */

/** Decodes base64 with V8's native decoder where it has one. */
export function embeddedBytes(base64: string): Uint8Array {
  const native =
    (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;
  if (native) return native(base64);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
