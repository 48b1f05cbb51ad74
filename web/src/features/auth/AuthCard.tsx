import type { ReactNode } from "react";

export const AuthCard = ({ title, children }: { title: string; children: ReactNode }) => (
  <section className="auth-card">
    <h1>
      <span aria-hidden="true">APE</span> {title}
    </h1>
    {children}
  </section>
);
