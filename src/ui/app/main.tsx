// The entry point: mounts the app inside an error boundary, so even a bug
// shows a message and a reload button instead of a blank page.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { ErrorBoundary } from './ErrorBoundary.tsx'

const root = document.getElementById('root')
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary where="djcloud">
        <App />
      </ErrorBoundary>
    </StrictMode>,
  )
}
