// A render error shows a message where the broken part was, never a blank
// screen; the rest of the app (the player) keeps going.
import { Component, type ReactNode } from 'react'

interface Props {
  where: string
  children: ReactNode
}

export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  override state = { error: null as Error | null }

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) }
  }

  override componentDidCatch(error: unknown) {
    console.error(`djcloud: ${this.props.where} failed`, error)
  }

  override render() {
    if (!this.state.error) return this.props.children
    return (
      <div className="crash" role="alert" data-testid="error-banner">
        <strong>{this.props.where} stopped working.</strong> {this.state.error.message}
        <div>
          <button onClick={() => this.setState({ error: null })}>Try again</button>{' '}
          <button onClick={() => location.reload()}>Reload</button>
        </div>
      </div>
    )
  }
}
