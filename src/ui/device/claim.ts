// The bytes a browser signs to claim a pairing link: the same as the node's
// claimMessage (src/node/browser-pairing.ts), which verifies them.
export function claimMessage(code: string, publicKey: Uint8Array, name: string): Uint8Array {
  return new TextEncoder().encode(`djcloud-pair-browser/v1\n${code}\n${toHex(publicKey)}\n${name}`)
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
