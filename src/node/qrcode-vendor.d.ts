// Types for the QR encoder qrcode-terminal 0.12 carries (Kazuhiko Arase's
// QRCode for JavaScript, MIT; CommonJS): the part the SVG renderer uses.
declare module 'qrcode-terminal/vendor/QRCode/index.js' {
  class QRCode {
    /** typeNumber -1 picks the smallest version that fits. */
    constructor(typeNumber: number, errorCorrectLevel: number)
    addData(data: string): void
    make(): void
    getModuleCount(): number
    isDark(row: number, col: number): boolean
  }
  export default QRCode
}
declare module 'qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel.js' {
  const levels: { L: number; M: number; Q: number; H: number }
  export default levels
}
