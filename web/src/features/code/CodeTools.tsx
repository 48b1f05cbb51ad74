import { type FormEvent, useId, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { HighlightedCode, Markdown } from "../../components/SafeHtml";
import { ErrorBanner, Loading, PageHeader } from "../../components/ui";
import { useAction } from "../../lib/use-action";
import { useModels } from "../chat/queries";

type Language = Schemas["GenerateCodeRequest"]["language"];
const LANGUAGES: Language[] = [
  "python",
  "typescript",
  "javascript",
  "go",
  "rust",
  "java",
  "kotlin",
  "c",
  "cpp",
  "csharp",
  "ruby",
  "php",
  "swift",
  "scala",
  "sql",
  "bash",
  "html",
  "css",
  "json",
  "yaml",
];
const TOOLS = [
  ["generate", "Generate"],
  ["review", "Review"],
  ["explain", "Explain"],
  ["convert", "Convert"],
] as const;
type Tool = (typeof TOOLS)[number][0];
const SEVERITY = ["critical", "high", "medium", "low", "info"] as const;

const Code = HighlightedCode;

const CodeEditor = ({ value, onChange, label }: { value: string; onChange: (v: string) => void; label: string }) => {
  const lines = Math.max(1, value.split("\n").length);
  const id = useId();
  return (
    <div className="editor">
      <div className="gutter" aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: line numbers are their index
          <span key={i}>{i + 1}</span>
        ))}
      </div>
      {/* The label is outside the text area: a control inside its label adds its value to its name. */}
      <label className="visually-hidden" htmlFor={id}>
        {label}
      </label>
      <textarea
        id={id}
        className="grow"
        spellCheck={false}
        rows={Math.min(30, Math.max(10, lines))}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
};

const LanguageSelect = ({
  label,
  value,
  onChange,
}: {
  label: string;
  value: Language;
  onChange: (l: Language) => void;
}) => (
  <label>
    {label}
    <select value={value} onChange={(e) => onChange(e.target.value as Language)}>
      {LANGUAGES.map((l) => (
        <option key={l}>{l}</option>
      ))}
    </select>
  </label>
);

type Result =
  | { tool: "generate"; answer: Schemas["GenerateCodeAnswer"] }
  | { tool: "review"; answer: Schemas["ReviewCodeAnswer"] }
  | { tool: "explain"; answer: Schemas["ExplainCodeAnswer"] }
  | { tool: "convert"; answer: Schemas["ConvertCodeAnswer"] };

export const CodeTools = ({ tool: toolParam }: { tool?: string }) => {
  const tool: Tool = (TOOLS.find(([t]) => t === toolParam)?.[0] ?? "generate") as Tool;
  const [code, setCode] = useState("");
  const [prompt, setPrompt] = useState("");
  const [language, setLanguage] = useState<Language>("python");
  const [to, setTo] = useState<Language>("typescript");
  const [level, setLevel] = useState<"beginner" | "intermediate" | "expert">("intermediate");
  const [result, setResult] = useState<Result | null>(null);
  const [model, setModel] = useState("auto");
  const models = useModels();
  const { busy, error, run } = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(null);
    const r = await run(async (): Promise<Result> => {
      switch (tool) {
        case "generate":
          return {
            tool,
            answer: (await unwrap(
              api.POST("/code/generate", { body: { prompt, language, model, stream: false } }),
            )) as Schemas["GenerateCodeAnswer"],
          };
        case "review":
          return {
            tool,
            answer: (await unwrap(
              api.POST("/code/review", { body: { code, language, model, stream: false } }),
            )) as Schemas["ReviewCodeAnswer"],
          };
        case "explain":
          return {
            tool,
            answer: (await unwrap(
              api.POST("/code/explain", { body: { code, language, level, model, stream: false } }),
            )) as Schemas["ExplainCodeAnswer"],
          };
        case "convert":
          return {
            tool,
            answer: (await unwrap(
              api.POST("/code/convert", { body: { code, from: language, to, model, stream: false } }),
            )) as Schemas["ConvertCodeAnswer"],
          };
      }
    });
    if (r) setResult(r);
  };

  return (
    <section className="page">
      <PageHeader title="Code tools" />
      <nav aria-label="Code tools" className="tabs">
        {TOOLS.map(([t, label]) => (
          <a key={t} href={`/code/${t}`} aria-current={t === tool ? "page" : undefined} onClick={() => setResult(null)}>
            {label}
          </a>
        ))}
      </nav>
      <form className="stack" onSubmit={submit}>
        <ErrorBanner error={error} />
        {tool === "generate" ? (
          <label>
            What should the code do?
            <textarea required rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
          </label>
        ) : (
          <CodeEditor label="Code" value={code} onChange={setCode} />
        )}
        <div className="row">
          <LanguageSelect label={tool === "convert" ? "From" : "Language"} value={language} onChange={setLanguage} />
          {tool === "convert" && <LanguageSelect label="To" value={to} onChange={setTo} />}
          <label>
            Model
            <select value={model} onChange={(e) => setModel(e.target.value)}>
              {(models.data?.length ? models.data : ["auto"]).map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          {tool === "explain" && (
            <label>
              Level
              <select value={level} onChange={(e) => setLevel(e.target.value as typeof level)}>
                <option>beginner</option>
                <option>intermediate</option>
                <option>expert</option>
              </select>
            </label>
          )}
        </div>
        <button type="submit" disabled={busy || (tool === "generate" ? !prompt.trim() : !code.trim())}>
          {TOOLS.find(([t]) => t === tool)?.[1]}
        </button>
      </form>
      {busy && <Loading label="Working…" />}
      {result && (
        <section className="card result" aria-label="Result">
          {result.tool === "generate" && (
            <>
              <h2>Generated {result.answer.result.language}</h2>
              <Code code={result.answer.result.code} language={result.answer.result.language} />
              {result.answer.result.notes.length > 0 && (
                <ul>
                  {result.answer.result.notes.map((n) => (
                    <li key={n}>{n}</li>
                  ))}
                </ul>
              )}
            </>
          )}
          {result.tool === "convert" && (
            <>
              <h2>
                {result.answer.result.from} → {result.answer.result.to}
              </h2>
              <Code code={result.answer.result.code} language={result.answer.result.to} />
              {result.answer.result.notes.length > 0 && (
                <ul>
                  {result.answer.result.notes.map((n) => (
                    <li key={n}>{n}</li>
                  ))}
                </ul>
              )}
            </>
          )}
          {result.tool === "explain" && (
            <>
              <h2>Explanation</h2>
              <p>
                <strong>{result.answer.result.summary}</strong>
              </p>
              <Markdown source={result.answer.result.explanation} />
              <ul>
                {result.answer.result.key_points.map((k) => (
                  <li key={k}>{k}</li>
                ))}
              </ul>
            </>
          )}
          {result.tool === "review" && (
            <>
              <h2>Review</h2>
              <p>{result.answer.result.summary}</p>
              {result.answer.result.findings.length === 0 ? (
                <p>No findings.</p>
              ) : (
                <ol className="findings">
                  {[...result.answer.result.findings]
                    .sort(
                      (a, b) =>
                        SEVERITY.indexOf(a.severity) - SEVERITY.indexOf(b.severity) || a.line_start - b.line_start,
                    )
                    .map((f) => (
                      <li key={`${f.line_start}-${f.title}`} className="finding">
                        <span className={`badge severity-${f.severity}`}>{f.severity}</span> <strong>{f.title}</strong>{" "}
                        <span className="muted">
                          line {f.line_start}
                          {f.line_end !== f.line_start ? `–${f.line_end}` : ""}
                        </span>
                        <p>{f.explanation}</p>
                        {f.suggested_fix && <Code code={f.suggested_fix} language={language} />}
                      </li>
                    ))}
                </ol>
              )}
            </>
          )}
          <p className="muted">
            {result.answer.model.provider}/{result.answer.model.model} ·{" "}
            {result.answer.usage.tokens_input + result.answer.usage.tokens_output} tokens
          </p>
        </section>
      )}
    </section>
  );
};
