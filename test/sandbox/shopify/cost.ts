/**
 * Query cost (shopify.md §7) and the per-shop leaky bucket.
 *
 * Model: scalar and enum fields cost 0; an object field (or a list of objects) costs 1 plus its
 * selection; a connection costs 2 + first × (1 + the selection of one node), where `pageInfo`
 * and the `edges`/`nodes` wrappers are free; `nodes(ids:)` costs ids × (1 + selection); each
 * top-level mutation field costs 10. The actual cost applies the same rules to what came back.
 */
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  TypeInfo,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isLeafType,
  isObjectType,
  visit,
  visitWithTypeInfo,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

export const MAX_SINGLE_QUERY_COST = 1000;
export const MUTATION_FIELD_COST = 10;

/** Alias injected into selection sets of abstract type, so the actual cost knows each type. */
export const TYPENAME_ALIAS = "_sgRuntimeType";

// --- leaky bucket ----------------------------------------------------------------------------

export type BucketConfig = { maximumAvailable: number; restoreRate: number };
export type ThrottleStatus = {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
};

/** Per-shop points bucket: drains by query cost, refills continuously at `restoreRate`/s. */
export class LeakyBucket {
  maximumAvailable: number;
  restoreRate: number;
  private level: number;
  private at: number;

  constructor(config: Partial<BucketConfig>, now = Date.now()) {
    this.maximumAvailable = config.maximumAvailable ?? 2000;
    this.restoreRate = config.restoreRate ?? 100;
    this.level = this.maximumAvailable;
    this.at = now;
  }

  available(now = Date.now()): number {
    const refilled = this.level + (Math.max(0, now - this.at) / 1000) * this.restoreRate;
    return Math.min(this.maximumAvailable, refilled);
  }

  /** Deducts `cost` when the bucket holds it; false (and nothing deducted) otherwise. */
  tryTake(cost: number, now = Date.now()): boolean {
    const available = this.available(now);
    if (cost > available) return false;
    this.level = available - cost;
    this.at = now;
    return true;
  }

  refund(points: number, now = Date.now()): void {
    this.level = Math.min(this.maximumAvailable, this.available(now) + Math.max(0, points));
    this.at = now;
  }

  force(currentlyAvailable: number, now = Date.now()): void {
    this.level = Math.max(0, Math.min(this.maximumAvailable, currentlyAvailable));
    this.at = now;
  }

  configure(config: Partial<BucketConfig>, now = Date.now()): void {
    const current = this.available(now);
    if (config.maximumAvailable !== undefined) this.maximumAvailable = config.maximumAvailable;
    if (config.restoreRate !== undefined) this.restoreRate = config.restoreRate;
    this.level = Math.min(this.maximumAvailable, current);
    this.at = now;
  }

  status(now = Date.now()): ThrottleStatus {
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: Math.floor(this.available(now)),
      restoreRate: this.restoreRate,
    };
  }
}

// --- cost ------------------------------------------------------------------------------------

type CostContext = {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  mutationType: GraphQLObjectType | null | undefined;
  queryType: GraphQLObjectType | null | undefined;
};

function context(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
): CostContext {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return {
    schema,
    fragments,
    variables,
    mutationType: schema.getMutationType(),
    queryType: schema.getQueryType(),
  };
}

function rootType(ctx: CostContext, operation: OperationDefinitionNode): GraphQLObjectType {
  const type = operation.operation === "mutation" ? ctx.mutationType : ctx.queryType;
  if (!type) throw new Error(`schema has no ${operation.operation} type`);
  return type;
}

/** The cost charged before execution, from the document and the coerced variables. */
export function requestedCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  const ctx = context(schema, document, variables);
  return selectionCost(ctx, rootType(ctx, operation), [operation.selectionSet]);
}

/** The cost of what execution returned (`data`), by the same rules. */
export function actualCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  data: unknown,
): number {
  if (!isRecord(data)) return 0;
  const ctx = context(schema, document, variables);
  return actualSelectionCost(ctx, rootType(ctx, operation), [operation.selectionSet], data);
}

function selectionCost(
  ctx: CostContext,
  parentType: GraphQLCompositeType,
  selectionSets: readonly SelectionSetNode[],
): number {
  const runtimeTypes = isAbstractType(parentType)
    ? ctx.schema.getPossibleTypes(parentType)
    : isObjectType(parentType)
      ? [parentType]
      : [];
  let max = 0;
  for (const runtimeType of runtimeTypes) {
    let sum = 0;
    for (const nodes of collectFields(ctx, runtimeType, selectionSets).values()) {
      sum += fieldCost(ctx, runtimeType, nodes);
    }
    max = Math.max(max, sum);
  }
  return max;
}

function fieldCost(ctx: CostContext, parentType: GraphQLObjectType, nodes: FieldNode[]): number {
  const first = nodes[0];
  if (!first || first.name.value.startsWith("__")) return 0;
  const def = parentType.getFields()[first.name.value];
  if (!def) return 0;
  if (parentType === ctx.mutationType) return MUTATION_FIELD_COST;
  const named = getNamedType(def.type);
  if (isLeafType(named) || !isCompositeType(named)) return 0;
  const subSets = subSelections(nodes);
  const args = getArgumentValues(def, first, ctx.variables);
  if (isConnection(named)) {
    const nodeType = connectionNodeType(named);
    const nodeSets = connectionNodeSelections(ctx, named, subSets);
    return 2 + pageSize(args) * (1 + (nodeType ? selectionCost(ctx, nodeType, nodeSets) : 0));
  }
  if (parentType === ctx.queryType && first.name.value === "nodes") {
    const ids = Array.isArray(args.ids) ? args.ids.length : 0;
    return ids * (1 + selectionCost(ctx, named, subSets));
  }
  return 1 + selectionCost(ctx, named, subSets);
}

function actualSelectionCost(
  ctx: CostContext,
  parentType: GraphQLCompositeType,
  selectionSets: readonly SelectionSetNode[],
  data: Record<string, unknown>,
): number {
  let runtimeType: GraphQLNamedType | null | undefined = parentType;
  if (isAbstractType(parentType)) {
    const name = data[TYPENAME_ALIAS] ?? data.__typename;
    runtimeType = typeof name === "string" ? ctx.schema.getType(name) : null;
  }
  if (!runtimeType || !isObjectType(runtimeType)) return 0;
  let sum = 0;
  for (const [key, nodes] of collectFields(ctx, runtimeType, selectionSets)) {
    sum += actualFieldCost(ctx, runtimeType, nodes, data[key]);
  }
  return sum;
}

function actualFieldCost(
  ctx: CostContext,
  parentType: GraphQLObjectType,
  nodes: FieldNode[],
  value: unknown,
): number {
  const first = nodes[0];
  if (!first || first.name.value.startsWith("__")) return 0;
  const def = parentType.getFields()[first.name.value];
  if (!def) return 0;
  if (parentType === ctx.mutationType) return MUTATION_FIELD_COST;
  const named = getNamedType(def.type);
  if (isLeafType(named) || !isCompositeType(named) || value === null || value === undefined) {
    return 0;
  }
  const subSets = subSelections(nodes);
  if (isConnection(named)) {
    const nodeType = connectionNodeType(named);
    if (!nodeType || !isRecord(value)) return 2;
    const rows = connectionRows(ctx, named, subSets, value);
    let sum = 2;
    for (const row of rows) {
      let best = 0;
      for (const { sets, data } of row) {
        best = Math.max(best, 1 + actualSelectionCost(ctx, nodeType, sets, data));
      }
      sum += best;
    }
    return sum;
  }
  if (Array.isArray(value)) {
    const isNodes = parentType === ctx.queryType && first.name.value === "nodes";
    let sum = isNodes ? 0 : 1;
    let best = 0;
    for (const element of value) {
      if (!isRecord(element)) continue;
      const cost = actualSelectionCost(ctx, named, subSets, element);
      if (isNodes) sum += 1 + cost;
      else best = Math.max(best, cost);
    }
    return sum + best;
  }
  return isRecord(value) ? 1 + actualSelectionCost(ctx, named, subSets, value) : 0;
}

/** Per returned node: the node's data under `nodes` and under `edges[].node`, with selections. */
function connectionRows(
  ctx: CostContext,
  connection: GraphQLObjectType,
  subSets: readonly SelectionSetNode[],
  value: Record<string, unknown>,
): { sets: SelectionSetNode[]; data: Record<string, unknown> }[][] {
  const rows: { sets: SelectionSetNode[]; data: Record<string, unknown> }[][] = [];
  const add = (index: number, sets: SelectionSetNode[], data: unknown): void => {
    if (!isRecord(data)) return;
    while (rows.length <= index) rows.push([]);
    rows[index]?.push({ sets, data });
  };
  for (const [key, fieldNodes] of collectFields(ctx, connection, subSets)) {
    const name = fieldNodes[0]?.name.value;
    const list = value[key];
    if (!Array.isArray(list)) continue;
    if (name === "nodes") {
      list.forEach((node, i) => add(i, subSelections(fieldNodes), node));
    } else if (name === "edges") {
      const edgeType = getNamedType(connection.getFields().edges?.type);
      if (!edgeType || !isObjectType(edgeType)) continue;
      const edgeFields = collectFields(ctx, edgeType, subSelections(fieldNodes));
      list.forEach((edge, i) => {
        if (!isRecord(edge)) return;
        for (const [edgeKey, edgeNodes] of edgeFields) {
          if (edgeNodes[0]?.name.value === "node") add(i, subSelections(edgeNodes), edge[edgeKey]);
        }
      });
    }
  }
  return rows;
}

function connectionNodeSelections(
  ctx: CostContext,
  connection: GraphQLObjectType,
  subSets: readonly SelectionSetNode[],
): SelectionSetNode[] {
  const sets: SelectionSetNode[] = [];
  for (const fieldNodes of collectFields(ctx, connection, subSets).values()) {
    const name = fieldNodes[0]?.name.value;
    if (name === "nodes") sets.push(...subSelections(fieldNodes));
    if (name === "edges") {
      const edgeType = getNamedType(connection.getFields().edges?.type);
      if (!edgeType || !isObjectType(edgeType)) continue;
      for (const edgeNodes of collectFields(ctx, edgeType, subSelections(fieldNodes)).values()) {
        if (edgeNodes[0]?.name.value === "node") sets.push(...subSelections(edgeNodes));
      }
    }
  }
  return sets;
}

function isConnection(type: GraphQLNamedType): type is GraphQLObjectType {
  return isObjectType(type) && type.name.endsWith("Connection") && "pageInfo" in type.getFields();
}

function connectionNodeType(connection: GraphQLObjectType): GraphQLCompositeType | null {
  const nodesField = connection.getFields().nodes;
  const type = nodesField ? getNamedType(nodesField.type) : null;
  return type && isCompositeType(type) ? type : null;
}

function pageSize(args: Record<string, unknown>): number {
  const first = typeof args.first === "number" ? args.first : null;
  const last = typeof args.last === "number" ? args.last : null;
  return Math.max(0, first ?? last ?? 0);
}

function subSelections(nodes: readonly FieldNode[]): SelectionSetNode[] {
  return nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
}

/** GraphQL's CollectFields for one runtime type: response key → the field nodes merged there. */
function collectFields(
  ctx: CostContext,
  runtimeType: GraphQLObjectType,
  selectionSets: readonly SelectionSetNode[],
  out = new Map<string, FieldNode[]>(),
  visited = new Set<string>(),
): Map<string, FieldNode[]> {
  for (const set of selectionSets) {
    for (const selection of set.selections) {
      if (!included(ctx, selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const list = out.get(key);
        if (list) list.push(selection);
        else out.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!applies(ctx, selection.typeCondition?.name.value, runtimeType)) continue;
        collectFields(ctx, runtimeType, [selection.selectionSet], out, visited);
      } else {
        const name = selection.name.value;
        if (visited.has(name)) continue;
        visited.add(name);
        const fragment = ctx.fragments[name];
        if (!fragment || !applies(ctx, fragment.typeCondition.name.value, runtimeType)) continue;
        collectFields(ctx, runtimeType, [fragment.selectionSet], out, visited);
      }
    }
  }
  return out;
}

function included(
  ctx: CostContext,
  node: { readonly directives?: readonly DirectiveNode[] },
): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, ctx.variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, ctx.variables);
  return include?.if !== false;
}

function applies(
  ctx: CostContext,
  condition: string | undefined,
  runtimeType: GraphQLObjectType,
): boolean {
  if (!condition) return true;
  const type = ctx.schema.getType(condition);
  if (!type) return false;
  if (type === runtimeType) return true;
  return isAbstractType(type) && ctx.schema.isSubType(type, runtimeType);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// --- runtime type injection ------------------------------------------------------------------

/** Adds `_sgRuntimeType: __typename` to every selection set of interface or union type. */
export function withRuntimeTypes(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet(node) {
        const parent = typeInfo.getParentType();
        if (!parent || !isAbstractType(parent)) return undefined;
        const already = node.selections.some(
          (s) => s.kind === Kind.FIELD && s.alias?.value === TYPENAME_ALIAS,
        );
        if (already) return undefined;
        const field: FieldNode = {
          kind: Kind.FIELD,
          alias: { kind: Kind.NAME, value: TYPENAME_ALIAS },
          name: { kind: Kind.NAME, value: "__typename" },
        };
        return { ...node, selections: [...node.selections, field] };
      },
    }),
  );
}

/** Removes the injected alias from a result tree (in place). */
export function stripRuntimeTypes(value: unknown): void {
  if (Array.isArray(value)) {
    for (const element of value) stripRuntimeTypes(element);
  } else if (isRecord(value)) {
    delete value[TYPENAME_ALIAS];
    for (const child of Object.values(value)) stripRuntimeTypes(child);
  }
}
