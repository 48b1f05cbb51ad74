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

/** Whether a queued job (an extraction job, a research session) has yet to end. */
export const isActive = (status: string) => status === "pending" || status === "running";

/** A queued job's Cancel button while it has yet to end, and Retry once it failed or was cancelled. */
export const JobActions = ({
  status,
  onCancel,
  onRetry,
}: {
  status: string;
  onCancel: () => void;
  onRetry: () => void;
}) => (
  <>
    {isActive(status) && (
      <button type="button" className="danger" onClick={onCancel}>
        Cancel
      </button>
    )}
    {(status === "failed" || status === "cancelled") && (
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    )}
  </>
);

/** A job's stages in order: those passed (all, once it completed) marked done, the current one as the step. */
export const Stages = ({
  stages,
  current,
  completed,
}: {
  stages: readonly string[];
  current: number;
  completed: boolean;
}) => (
  <ol className="stages" aria-label="Progress">
    {stages.map((stage, i) => (
      <li
        key={stage}
        className={i < current || completed ? "done" : i === current ? "current" : ""}
        aria-current={i === current ? "step" : undefined}
      >
        {stage}
      </li>
    ))}
  </ol>
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
