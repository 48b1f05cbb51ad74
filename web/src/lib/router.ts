// A small History API router: the URL is the state, links are plain <a href>, and clicks on same-origin
// links are turned into pushState so the app never reloads.
import { useEffect, useState } from "react";

const listeners = new Set<() => void>();

export const navigate = (to: string, replace = false) => {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
  // As a page load would: the next Tab starts at the new screen's content, and screen readers hear it.
  requestAnimationFrame(() => document.getElementById("main")?.focus({ preventScroll: true }));
};

export const useLocation = () => {
  const [location, setLocation] = useState(() => ({ path: location_().path, search: location_().search }));
  useEffect(() => {
    const update = () => setLocation(location_());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return location;
};

const location_ = () => ({ path: window.location.pathname, search: window.location.search });

/** Makes in-app links navigate without a reload (including links inside rendered Markdown). */
export const interceptLinks = () => {
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
    const href = anchor.getAttribute("href");
    if (!href?.startsWith("/") || href.startsWith("//")) return;
    event.preventDefault();
    navigate(href);
  });
};
