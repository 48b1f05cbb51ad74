// Light and dark: the system's choice by default (prefers-color-scheme), or the person's, kept in
// localStorage (a preference, not a secret).
export type Theme = "system" | "light" | "dark";
const KEY = "ape.theme";

export const loadTheme = (): Theme => {
  const saved = localStorage.getItem(KEY);
  return saved === "light" || saved === "dark" ? saved : "system";
};

export const applyTheme = (theme: Theme) => {
  if (theme === "system") {
    delete document.documentElement.dataset.theme;
    localStorage.removeItem(KEY);
  } else {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem(KEY, theme);
  }
};
