// Types for qrcode-terminal 0.12 (CommonJS, no types of its own): the part we use.
declare module 'qrcode-terminal' {
  interface GenerateOptions {
    /** Half-height blocks: a code half as tall. */
    small?: boolean
  }
  const qrcode: {
    /** Renders input as a QR code for a terminal; cb gets the text (it is called synchronously). */
    generate(input: string, opts: GenerateOptions, cb: (qr: string) => void): void
    setErrorLevel(level: 'L' | 'M' | 'Q' | 'H'): void
  }
  export default qrcode
}
