// The entry point: mounts the app inside an error boundary, so even a bug
// shows a message and a reload button instead of a blank page.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { BrowserPairPage, pairCodeOf } from './BrowserPairPage.tsx'
import { ErrorBoundary } from './ErrorBoundary.tsx'

const root = document.getElementById('root')
if (root) {
  // A pairing link (`/#pair=CODE`) opens the pairing page instead of the app.
  const pairCode = pairCodeOf(location.hash)
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary where="djcloud">{pairCode ? <BrowserPairPage code={pairCode} /> : <App />}</ErrorBoundary>
    </StrictMode>,
  )
}
