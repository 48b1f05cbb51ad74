import { searchDocuments } from "../../../../services/documents/search.js";
import { SearchBodySchema, SearchResultSchema } from "../../documents/schemas.js";
import { defineTool } from "../tool.js";

export const searchDocumentsTool = defineTool({
  name: "search_documents",
  title: "Search my documents",
  description:
    "Finds the passages of the user's uploaded documents that best match a query (full-text search, fused with search by meaning when APE has an embedding model). Each passage names its document, page, character offsets and a quote. `document_ids` narrows the search to those documents. Needs the `documents` scope.",
  scope: "documents",
  reads: false,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: SearchBodySchema.pick({ query: true, k: true, document_ids: true }),
  output: SearchResultSchema,
  run: async (args, { ctx }) => ({ result: await searchDocuments({ ctx, input: args }) }),
});
