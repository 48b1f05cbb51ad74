import { useState } from "react";
import { copyText } from "../../lib/clipboard";

/** Copies `text`, saying so for a moment ("Copied"). */
export const CopyButton = ({ text, label = "Copy" }: { text: string; label?: string }) => {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <button
      type="button"
      className="link"
      onClick={async () => {
        setState((await copyText(text)) ? "copied" : "failed");
        setTimeout(() => setState("idle"), 1500);
      }}
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : label}
    </button>
  );
};
