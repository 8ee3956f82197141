// Attribute text for the writers. Newlines and tabs are written as character
// references so they survive attribute-value normalisation; characters XML
// 1.0 cannot carry at all (control characters, lone surrogates) become
// U+FFFD, the one change a write makes to text.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' }

export function escapeAttr(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[&<>"\n\r\t]/g, (c) => ESCAPES[c]!)
}

export type AttrList = Array<readonly [string, string | number | undefined]>

/** ` A="1" B="x"`, attributes whose value is undefined left out. */
export function attrs(list: AttrList): string {
  let out = ''
  for (const [name, value] of list) if (value !== undefined) out += ` ${name}="${escapeAttr(String(value))}"`
  return out
}
