// The fields the account screens share, so each screen holds only what it does.

export const EmailField = ({ value, onChange }: { value: string; onChange: (email: string) => void }) => (
  <label>
    Email
    <input type="email" autoComplete="email" required value={value} onChange={(e) => onChange(e.target.value)} />
  </label>
);

/** A password: the one a person has (`current`), or a new one (at least 8 characters). */
export const PasswordField = ({
  label = "Password",
  kind,
  hint,
  value,
  onChange,
}: {
  label?: string;
  kind: "current" | "new";
  /** The id of the text that says what a good one is. */
  hint?: string;
  value: string;
  onChange: (password: string) => void;
}) => (
  <label>
    {label}
    <input
      type="password"
      autoComplete={kind === "current" ? "current-password" : "new-password"}
      required
      minLength={kind === "new" ? 8 : undefined}
      aria-describedby={hint}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  </label>
);
