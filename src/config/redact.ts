// Option texts end up in messages (`nvmemu: -object ...: error`, the monitor's replies), and
// QEMU's `secret` object carries key material inline in `data=` (docs/security.md): every copy
// of an `-object`/`object_add` text kept for messages goes through redactObjectText first. Only
// `secret` has a `data` property among the object types, so the rule needs no type lookup.

export const REDACTED = '<redacted>';

/**
 * The option text with the value of every `data` key replaced by `<redacted>`: keyval
 * (`secret,id=k,data=...`, where `,,` is an escaped comma inside a value) and JSON
 * (`{"qom-type": "secret", "data": "..."}`).
 */
export function redactObjectText(text: string): string {
  if (text.trimStart().startsWith('{')) {
    return text.replace(/("data"\s*:\s*)"(?:[^"\\]|\\.)*"/g, `$1"${REDACTED}"`);
  }
  return text.replace(/(^|,)data=(?:[^,]|,,)*/g, `$1data=${REDACTED}`);
}
