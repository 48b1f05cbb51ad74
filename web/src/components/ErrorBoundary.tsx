import { Component, type ReactNode } from "react";

/** A screen that throws while rendering shows what happened and a way on, never a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidUpdate(previous: { resetKey: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="page">
        <div className="banner error" role="alert">
          <p>
            <strong>This screen ran into a problem: {this.state.error.message}</strong>
          </p>
          <p>
            <button type="button" onClick={() => window.location.reload()}>
              Reload
            </button>{" "}
            or <a href="/chat">go to chat</a>.
          </p>
        </div>
      </section>
    );
  }
}
