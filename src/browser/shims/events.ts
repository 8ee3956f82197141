// node:events (and `events`) for the browser build (docs/browser.md, "Shims"):
// bare-events' EventEmitter, which implements Node's API. It is an ES class,
// and readable-stream 3 inherits the old way (`Stream.call(this)`), which a
// class refuses; so this is a plain function with bare-events' prototype
// (whose methods set up their listener table on first use). Classes extend
// it as they would Node's. The `events` package itself would do instead; it
// is not installed here.
import BareEventEmitter from 'bare-events'

export function EventEmitter(): void {}
EventEmitter.prototype = BareEventEmitter.prototype
export default EventEmitter
