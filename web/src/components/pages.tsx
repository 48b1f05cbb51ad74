// The frames two kinds of screens share: a list of queued jobs (extraction, research) with a "New …" button,
// and one job's page with its way back, its actions, its status and id.
import type { ReactNode } from "react";
import type { ProblemError } from "../api/client";
import { Empty, ErrorBanner, JobActions, Loading, PageHeader, StatusBadge } from "./ui";

type Listed<T> = { isPending: boolean; error: ProblemError | null; data?: { items: T[] } | undefined };

/** A list page: its title and "New …" link, then the cards, or what to say while there are none. */
export const ListPage = <T extends { id: string }>({
  title,
  newHref,
  newLabel,
  list,
  empty,
  card,
}: {
  title: string;
  newHref: string;
  newLabel: string;
  list: Listed<T>;
  empty: ReactNode;
  card: (item: T) => ReactNode;
}) => (
  <section className="page">
    <PageHeader title={title}>
      <a className="button" href={newHref}>
        {newLabel}
      </a>
    </PageHeader>
    <ErrorBanner error={list.error} />
    {list.isPending ? (
      <Loading />
    ) : list.data?.items.length ? (
      <ul className="cards">
        {list.data.items.map((item) => (
          <li key={item.id} className="card">
            {card(item)}
          </li>
        ))}
      </ul>
    ) : (
      <Empty>{empty}</Empty>
    )}
  </section>
);

/** A job's page: back to its list, errors, then (once loaded) its title, cancel or retry, status, and id. */
export const JobPage = <T extends { id: string; status: string }>({
  back,
  backLabel,
  job,
  error,
  title,
  detail,
  onCancel,
  onRetry,
  children,
}: {
  back: string;
  backLabel: string;
  job: T | undefined;
  error: ProblemError | null;
  title: (job: T) => string;
  detail: (job: T) => ReactNode;
  onCancel: () => void;
  onRetry: () => void;
  children: (job: T) => ReactNode;
}) => (
  <section className="page">
    <p>
      <a href={back}>← {backLabel}</a>
    </p>
    <ErrorBanner error={error} />
    {!job ? (
      !error && <Loading />
    ) : (
      <>
        <PageHeader title={title(job)}>
          <JobActions status={job.status} onCancel={onCancel} onRetry={onRetry} />
        </PageHeader>
        <p>
          <StatusBadge status={job.status} /> {detail(job)} · <code className="muted">{job.id}</code>
        </p>
        {children(job)}
      </>
    )}
  </section>
);
