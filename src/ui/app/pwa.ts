// The page's side of the service worker (src/ui/sw): register it where the
// browser has one (a secure context: https, or http on 127.0.0.1/localhost),
// and offer a new build's worker, once it is installed and waiting, as
// "reload for the new version". Without service worker support the page is
// the same page, minus offline use.
import { SERVICE_WORKER_URL, SKIP_WAITING } from '../logic/index.ts'

export interface ServiceWorkerHooks {
  /** Called with the function that switches to the waiting worker and reloads. */
  onUpdateReady: (apply: () => void) => void
  /**
   * The first worker took control of this page (its first visit): reads made
   * before it did were not kept, so the page makes them again.
   */
  onFirstControl: () => void
}

export async function registerServiceWorker({ onUpdateReady, onFirstControl }: ServiceWorkerHooks): Promise<void> {
  if (!window.isSecureContext || !('serviceWorker' in navigator)) return
  const sw = navigator.serviceWorker
  if (!sw.controller) sw.addEventListener('controllerchange', onFirstControl, { once: true })
  let reg: ServiceWorkerRegistration
  try {
    // updateViaCache 'none': the browser asks the node for sw.js on every check, never its HTTP cache.
    reg = await sw.register(SERVICE_WORKER_URL, { scope: '/', updateViaCache: 'none' })
  } catch (err) {
    console.warn('djcloud: the service worker could not be registered; the app works, but not offline', err)
    return
  }
  const offer = (waiting: ServiceWorker) => {
    // A first install (no controller yet) takes over by itself; only a replacement waits to be asked.
    if (!sw.controller) return
    onUpdateReady(() => {
      sw.addEventListener('controllerchange', () => window.location.reload(), { once: true })
      waiting.postMessage({ type: SKIP_WAITING })
    })
  }
  if (reg.waiting) offer(reg.waiting)
  reg.addEventListener('updatefound', () => {
    const installing = reg.installing
    installing?.addEventListener('statechange', () => {
      if (installing.state === 'installed' && reg.waiting === installing) offer(installing)
    })
  })
}
