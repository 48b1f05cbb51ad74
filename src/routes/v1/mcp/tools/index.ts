import type { McpTool } from "../tool.js";
import { askTool } from "./ask.js";
import { generateCodeTool } from "./generate-code.js";
import { getExtractionTool } from "./get-extraction.js";
import { getResearchTool } from "./get-research.js";
import { reviewCodeTool } from "./review-code.js";
import { searchDocumentsTool } from "./search-documents.js";
import { startExtractionTool } from "./start-extraction.js";
import { startResearchTool } from "./start-research.js";

/** Every tool the MCP server offers, in the order `tools/list` shows them. */
export const mcpTools: McpTool[] = [
  searchDocumentsTool,
  askTool,
  startResearchTool,
  getResearchTool,
  startExtractionTool,
  getExtractionTool,
  reviewCodeTool,
  generateCodeTool,
];
