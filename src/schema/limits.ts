// What one GraphQL request may ask for, over HTTP and WebSocket alike. graphql-armor's rules bound depth,
// aliases and directives; graphql-query-complexity computes a cost that multiplies by list sizes; graphql's
// own parser bounds the tokens. What no library covers is here: the document's length and string inputs.
// Introspection is counted like any other field (a nested `__schema` or `__type` is as costly as data).
import { GraphQLError, getNullableType, isListType, parse, visit, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/** Nesting of data queries. */
export const MAX_QUERY_DEPTH = 10;
/** Nesting of introspection: the standard introspection query (GraphiQL's) is 15 deep with fragments flattened. */
export const MAX_INTROSPECTION_DEPTH = 15;
export const MAX_ALIASES = 30;
export const MAX_DIRECTIVES = 20;
/** Lexical tokens of a document; graphql-js's standard introspection query has about 400. */
export const MAX_QUERY_TOKENS = 5000;
export const MAX_QUERY_BYTES = 64 * 1024;
/**
 * Estimated cost: 1 per field, each field's selection multiplied by the size of the list it returns (its
 * `limit`/`first`/`last` argument, else DEFAULT_LIST_SIZE). 500 images with a dozen fields each cost about
 * 7,000; the standard introspection query about 37,000.
 */
export const MAX_QUERY_COST = 50_000;
export const DEFAULT_LIST_SIZE = 10;
/** Longest string input (variables and literals), in characters. */
export const MAX_STRING_LENGTH = 10_000;
/** Inputs that carry a whole file and are checked by size where they are decoded (ImageService). */
const FILE_INPUTS = new Set(['contentBase64']);
/** Largest WebSocket message: a subscription or query with its variables (files go over HTTP). */
export const MAX_WS_PAYLOAD_BYTES = 1024 * 1024;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** Depth, alias and directive limits as validation rules (Apollo's validationRules; graphql-ws's validate). */
export function limitRules(): ValidationRule[] {
  // Reported as validation errors (Apollo gives every validation error GRAPHQL_VALIDATION_FAILED; so does graphql-ws here).
  const report = (ctx: { reportError(e: GraphQLError): void } | null, err: GraphQLError) =>
    ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
  const common = { propagateOnRejection: false, onReject: [report] };
  return [
    // Data queries, with `__schema` left to the second rule: the standard introspection query is deeper than any data query.
    maxDepthRule({ n: MAX_QUERY_DEPTH, ignoreIntrospection: true, flattenFragments: true, ...common }),
    maxDepthRule({ n: MAX_INTROSPECTION_DEPTH, ignoreIntrospection: false, flattenFragments: true, ...common }),
    maxAliasesRule({ n: MAX_ALIASES, ...common }),
    maxDirectivesRule({ n: MAX_DIRECTIVES, ...common }),
  ] as ValidationRule[];
}

/** Parses with the token limit; a syntax error or too many tokens is a GraphQLError for the client. */
export function parseLimited(source: string): DocumentNode {
  if (source.length > MAX_QUERY_BYTES) throw new GraphQLError(`query is over ${MAX_QUERY_BYTES} bytes`, { extensions: { code: 'QUERY_TOO_LARGE' } });
  try {
    return parse(source, { maxTokens: MAX_QUERY_TOKENS });
  } catch (err) {
    const e = err as GraphQLError;
    throw new GraphQLError(e.message, { source: e.source, positions: e.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  }
}

const SIZE_ARGS = ['limit', 'first', 'last'];

/**
 * A field costs 1 plus its selection times the number of items it returns: its size argument when it has
 * one, DEFAULT_LIST_SIZE for other lists. A page's `items` (a type with `total` beside them) is already
 * counted by the size argument of the field that returned the page.
 */
const listSizeEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const size = SIZE_ARGS.map((a) => args[a]).find((v) => typeof v === 'number' && v > 0) as number | undefined;
  if (size !== undefined) return 1 + size * Math.max(1, childComplexity);
  if (isListType(getNullableType(field.type))) {
    const isPageItems = 'getFields' in type && ('total' in type.getFields() || 'pageInfo' in type.getFields());
    return 1 + (isPageItems ? 1 : DEFAULT_LIST_SIZE) * Math.max(1, childComplexity);
  }
  return 1 + childComplexity;
};

export function queryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number {
  return getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators: [listSizeEstimator] });
}

/** Refuses a document whose estimated cost is over MAX_QUERY_COST; null when it may run. */
export function costError(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): GraphQLError | null {
  let cost: number;
  try {
    cost = queryCost(schema, document, variables, operationName);
  } catch (err) {
    // Unknown variables or arguments: graphql's own validation and coercion report them better.
    return err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message) ? badInput(err.message) : null;
  }
  return cost > MAX_QUERY_COST
    ? badInput(`query is estimated to cost ${cost} (fields times list sizes); the limit is ${MAX_QUERY_COST}: ask for smaller pages or fewer fields`)
    : null;
}

/** Refuses a string input (in variables or in the document) longer than MAX_STRING_LENGTH; null when none is. */
export function stringInputError(document: DocumentNode, variables: Record<string, unknown> | undefined): GraphQLError | null {
  const tooLong = (where: string, s: string) =>
    badInput(`${where} is ${s.length} characters long; the limit is ${MAX_STRING_LENGTH} (files go in contentBase64 or POST /upload)`);
  const walk = (v: unknown, path: string, key: string): GraphQLError | null => {
    if (typeof v === 'string') return v.length > MAX_STRING_LENGTH && !FILE_INPUTS.has(key) ? tooLong(path, v) : null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e = walk(v[i], `${path}[${i}]`, key);
        if (e) return e;
      }
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.length > MAX_STRING_LENGTH) return tooLong(`a key of ${path}`, k);
        const e = walk(x, `${path}.${k}`, k);
        if (e) return e;
      }
    }
    return null;
  };
  for (const [name, value] of Object.entries(variables ?? {})) {
    const e = walk(value, `variable $${name}`, name);
    if (e) return e;
  }
  let found: GraphQLError | null = null;
  const keys: string[] = [];
  visit(document, {
    ObjectField: { enter: (n) => void keys.push(n.name.value), leave: () => void keys.pop() },
    Argument: { enter: (n) => void keys.push(n.name.value), leave: () => void keys.pop() },
    StringValue(n) {
      if (!found && n.value.length > MAX_STRING_LENGTH && !FILE_INPUTS.has(keys.at(-1) ?? '')) found = tooLong(`argument ${keys.join('.') || '(string)'}`, n.value);
    },
  });
  return found;
}

/** Every check that needs the variables, in order; the first error or null. Shared by HTTP and WebSocket. */
export function requestLimitError(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): GraphQLError | null {
  return stringInputError(document, variables) ?? costError(schema, document, variables, operationName);
}
