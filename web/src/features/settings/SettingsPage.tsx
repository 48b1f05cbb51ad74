import { PageHeader } from "../../components/ui";
import { ApiKeys } from "./ApiKeys";
import { Profile } from "./Profile";
import { Webhooks } from "./Webhooks";

export const SettingsPage = ({ tab }: { tab?: string }) => {
  const current = tab === "api-keys" || tab === "webhooks" ? tab : "profile";
  return (
    <section className="page">
      <PageHeader title="Settings" />
      <nav aria-label="Settings" className="tabs">
        <a href="/settings" aria-current={current === "profile" ? "page" : undefined}>
          Profile
        </a>
        <a href="/settings/api-keys" aria-current={current === "api-keys" ? "page" : undefined}>
          API keys
        </a>
        <a href="/settings/webhooks" aria-current={current === "webhooks" ? "page" : undefined}>
          Webhooks
        </a>
      </nav>
      {current === "profile" && <Profile />}
      {current === "api-keys" && <ApiKeys />}
      {current === "webhooks" && <Webhooks />}
    </section>
  );
};
