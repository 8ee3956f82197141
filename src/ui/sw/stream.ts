// /stream/<sha256>: the hook where the browser device (issue 15) will answer
// the <audio> element's Range requests from the swarm, as webtorrent's
// service worker does. Today it answers nothing, so the request goes to the
// node as if there were no worker; no stream byte is ever cached here.
export function streamResponse(_request: Request): Promise<Response> | null {
  return null
}
