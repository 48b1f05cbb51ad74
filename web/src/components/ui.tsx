import type { ReactNode } from "react";
import type { ProblemError } from "../api/client";

/** A failure as a readable message (the problem+json `detail`), with field errors when there are any. */
export const ErrorBanner = ({
  error,
  onDismiss,
}: {
  error: ProblemError | null | undefined;
  onDismiss?: () => void;
}) =>
  error ? (
    <div className="banner error" role="alert">
      <p>
        <strong>{error.message}</strong>
        {error.code ? <span className="muted"> ({error.code})</span> : null}
      </p>
      {error.fieldErrors.length > 0 && (
        <ul>
          {error.fieldErrors.map((f) => (
            <li key={`${f.field}-${f.message}`}>
              {f.field ? <code>{f.field}</code> : null} {f.message}
            </li>
          ))}
        </ul>
      )}
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  ) : null;

export const Loading = ({ label = "Loading…" }: { label?: string }) => (
  <p className="loading" role="status" aria-live="polite">
    <span className="spinner" aria-hidden="true" /> {label}
  </p>
);

export const Empty = ({ children }: { children: ReactNode }) => <div className="empty">{children}</div>;

export const StatusBadge = ({ status }: { status: string }) => (
  <span className={`badge status-${status}`}>{status}</span>
);

export const Progress = ({ value, label }: { value: number; label: string }) => (
  <div className="progress">
    <progress max={100} value={Math.round(value)} aria-label={label} />
    <span>{Math.round(value)}%</span>
  </div>
);

export const PageHeader = ({ title, children }: { title: string; children?: ReactNode }) => (
  <div className="page-header">
    <h1>{title}</h1>
    {children ? <div className="actions">{children}</div> : null}
  </div>
);

export const formatDate = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");
export const formatBytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
