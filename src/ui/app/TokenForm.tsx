// A page not served to loopback has no token in it: the person types it once
// and the node opens a session (POST /api/session): a cookie, and keys the
// page keeps in its origin's storage (api.ts).
import { useState, type FormEvent } from 'react'
import { ApiError, describe, startSession } from './api.ts'

export function TokenForm() {
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await startSession(value.trim())
      location.reload()
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That is not this node’s token.' : describe(err))
      setBusy(false)
    }
  }
  return (
    <form className="token-form" onSubmit={submit}>
      <h1>djcloud</h1>
      <p>
        This node needs its API token. On the computer running it: <code>cat ~/.djcloud/api-token</code> (or the home given
        with <code>--home</code>).
      </p>
      <input
        data-testid="token-input"
        type="password"
        autoComplete="current-password"
        placeholder="API token"
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <button data-testid="token-submit" disabled={busy || !value.trim()}>
        Connect
      </button>
      {error && (
        <p className="error-banner" data-testid="error-banner" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
