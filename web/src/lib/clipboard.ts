/** Puts text on the clipboard; false when the browser refuses (no permission, not a secure context). */
export const copyText = async (text: string) => {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
};
