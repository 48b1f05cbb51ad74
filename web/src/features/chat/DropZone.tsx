import { type DragEvent, type ReactNode, useState } from "react";

/** A region that takes files dropped on it, showing where they will go while one is dragged over. */
export const DropZone = ({
  onFiles,
  className,
  label,
  children,
}: {
  onFiles: (files: FileList) => void;
  className: string;
  label: string;
  children: ReactNode;
}) => {
  const [over, setOver] = useState(false);
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");
  return (
    <section
      className={`${className}${over ? " dropping" : ""}`}
      aria-label={label}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setOver(false);
      }}
      onDrop={(e) => {
        if (!e.dataTransfer.files.length) return;
        e.preventDefault();
        setOver(false);
        onFiles(e.dataTransfer.files);
      }}
    >
      {children}
      {over && (
        <div className="drop-hint" aria-hidden="true">
          Drop files to attach them
        </div>
      )}
    </section>
  );
};
