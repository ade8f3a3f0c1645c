/**
 * The softphone's config.json as the stack's site and the local app write it (client/src/config.ts reads it):
 * `apiBaseUrl`, and `edge` when one is configured.
 */
/** config.json's `edge`: one name as a string, several as a list (client/src/config.ts reads both). */
export function siteEdge(edge: readonly string[] | undefined): { edge?: string | string[] } {
  if (!edge || edge.length === 0) return {};
  return { edge: edge.length === 1 ? edge[0] : [...edge] };
}
