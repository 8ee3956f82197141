// Debian's Chromium for the end-to-end tests: the same launcher as bench/ui.
export { CHROMIUM, CHROMIUM_ARGS, launchChromium } from '../../bench/chromium.ts'
