/**
 * The languages the code tools take, by the identifier clients send, with the name prompts use. A language
 * outside this list is refused with 400 rather than passed to a model that may quietly guess.
 */
export const languageNames = {
  typescript: "TypeScript",
  javascript: "JavaScript",
  python: "Python",
  go: "Go",
  rust: "Rust",
  java: "Java",
  kotlin: "Kotlin",
  c: "C",
  cpp: "C++",
  csharp: "C#",
  ruby: "Ruby",
  php: "PHP",
  swift: "Swift",
  scala: "Scala",
  sql: "SQL",
  bash: "Bash",
  powershell: "PowerShell",
  html: "HTML",
  css: "CSS",
  json: "JSON",
  yaml: "YAML",
  haskell: "Haskell",
  elixir: "Elixir",
  lua: "Lua",
  r: "R",
  dart: "Dart",
  perl: "Perl",
  ocaml: "OCaml",
  zig: "Zig",
  solidity: "Solidity",
} as const;

export type Language = keyof typeof languageNames;

export const languages = Object.keys(languageNames) as [Language, ...Language[]];

/**
 * The name of a language for a prompt.
 * @example
 * languageName("cpp"); // "C++"
 */
export const languageName = (language: Language) => languageNames[language];
