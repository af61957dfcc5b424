// Reverse accumulation over the recorded graph, restricted to the paths between outputs and inputs.

import { zerosLike } from '../core/creation.js';
import { add } from '../core/ops.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { tidy } from '../core/scope.js';
import { nextTensorId, Tensor, withGradMode } from '../core/tensor.js';

export interface BackwardOptions {
  /** Record the backward computation so its results can be differentiated again. */
  createGraph?: boolean;
  /**
   * Tensors at which the traversal stops as it does at `inputs`, without computing their cotangents: a rule that
   * differentiates a composite traced on all its inputs but needs the cotangents of some (composite-vjp.ts).
   */
  stopAt?: readonly Tensor[];
}

/**
 * Cotangents of `inputs` given cotangents of `outputs`: Σ_k J_k(inputs)ᵀ c_k.
 * Inputs are treated as independent variables (traversal stops at them). Returns zeros
 * for inputs the outputs do not depend on.
 */
export function backward(
  outputs: readonly Tensor[],
  cotangents: readonly Tensor[],
  inputs: readonly Tensor[],
  opts: BackwardOptions = {},
): Tensor[] {
  return run(outputs, cotangents, inputs, opts, true) as Tensor[];
}

/**
 * backward, with null for the inputs the outputs do not depend on instead of a zero tensor (callers that would
 * only subtract the zeros again: the hypergradient's direct term of a validation loss without λ).
 */
export function backwardOrNull(
  outputs: readonly Tensor[],
  cotangents: readonly Tensor[],
  inputs: readonly Tensor[],
  opts: BackwardOptions = {},
): (Tensor | null)[] {
  return run(outputs, cotangents, inputs, opts, false);
}

function run(outputs: readonly Tensor[], cotangents: readonly Tensor[], inputs: readonly Tensor[], opts: BackwardOptions, zeros: boolean): (Tensor | null)[] {
  if (outputs.length !== cotangents.length) throw new Error(`backward: ${outputs.length} outputs but ${cotangents.length} cotangents`);
  outputs.forEach((o, i) => {
    if (!shapesEqual(o.shape, cotangents[i].shape)) {
      throw new Error(`backward: cotangent ${i} has shape ${formatShape(cotangents[i].shape)}, output has ${formatShape(o.shape)}`);
    }
  });
  const createGraph = opts.createGraph ?? false;
  // Without a graph to keep, the pass's temporaries go back to the backend's pool: every tensor made inside
  // (tidy) at the end, and each cotangent as soon as it has been pulled back and is stored nowhere else.
  const stopAt = opts.stopAt ?? [];
  return createGraph ? pass(outputs, cotangents, inputs, stopAt, true, zeros) : tidy(() => pass(outputs, cotangents, inputs, stopAt, false, zeros));
}

function pass(outputs: readonly Tensor[], cotangents: readonly Tensor[], inputs: readonly Tensor[], stopAt: readonly Tensor[], createGraph: boolean, zeros: boolean): (Tensor | null)[] {
  const inputIds = new Set(inputs.map((t) => t.id));
  const stopIds = new Set(stopAt.map((t) => t.id));
  const order = relevantTopoOrder(outputs, inputIds, stopIds);
  const cts = new Map<number, Tensor>();
  /** Tensors made during this pass (ids are increasing): only those may be released early. */
  const firstId = nextTensorId();
  const stored = new Map<Tensor, number>();
  const hold = (c: Tensor): void => void stored.set(c, (stored.get(c) ?? 0) + 1);
  const drop = (c: Tensor): void => {
    const n = (stored.get(c) ?? 0) - 1;
    if (n > 0) stored.set(c, n);
    else stored.delete(c);
  };
  /** The cotangent being pulled back and the rule's results: not released until all of them are accumulated. */
  const pending = new Set<Tensor>();
  const releaseIfUnused = (c: Tensor): void => {
    if (!createGraph && c.id >= firstId && !stored.has(c) && !pending.has(c)) c.dispose();
  };
  const accumulate = (t: Tensor, c: Tensor): void => {
    const prev = cts.get(t.id);
    if (prev === undefined) {
      cts.set(t.id, c);
      hold(c);
      return;
    }
    const total = add(prev, c);
    cts.set(t.id, total);
    hold(total);
    drop(prev);
    releaseIfUnused(prev);
  };
  return withGradMode(createGraph, () => {
    outputs.forEach((o, i) => {
      if (order.relevant.has(o.id)) accumulate(o, cotangents[i]);
    });
    for (let i = order.list.length - 1; i >= 0; i--) {
      const t = order.list[i];
      if (inputIds.has(t.id) || t.node === null) continue;
      const c = cts.get(t.id);
      if (c === undefined) continue;
      cts.delete(t.id);
      drop(c);
      const parts = t.node.vjp(c, t.node.inputs.map((x) => order.relevant.has(x.id)));
      pending.add(c);
      for (const p of parts) if (p !== null) pending.add(p);
      t.node.inputs.forEach((x, k) => {
        const p = parts[k];
        if (p !== null && order.relevant.has(x.id)) {
          if (!shapesEqual(p.shape, x.shape)) {
            throw new Error(`backward: rule '${t.node!.name}' returned cotangent ${formatShape(p.shape)} for input ${formatShape(x.shape)}`);
          }
          accumulate(x, p);
        }
      });
      pending.clear();
      releaseIfUnused(c);
      for (const p of parts) if (p !== null) releaseIfUnused(p);
    }
    return inputs.map((x) => cts.get(x.id) ?? (zeros ? zerosLike(x) : null));
  });
}

interface TopoOrder {
  list: Tensor[];
  relevant: Set<number>;
}

/** Post-order of tensors that lie on a path from an input to an output (iterative DFS, not beyond inputs and stops). */
function relevantTopoOrder(outputs: readonly Tensor[], inputIds: ReadonlySet<number>, stopIds: ReadonlySet<number>): TopoOrder {
  const relevant = new Set<number>();
  const visited = new Set<number>();
  const list: Tensor[] = [];
  for (const root of outputs) {
    if (visited.has(root.id)) continue;
    const stack: { t: Tensor; next: number }[] = [{ t: root, next: 0 }];
    visited.add(root.id);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const { t } = top;
      const parents = inputIds.has(t.id) || stopIds.has(t.id) || t.node === null ? [] : t.node.inputs;
      if (top.next < parents.length) {
        const p = parents[top.next++];
        if (!visited.has(p.id) && p.requiresGrad) {
          visited.add(p.id);
          stack.push({ t: p, next: 0 });
        }
        continue;
      }
      stack.pop();
      if (inputIds.has(t.id) || parents.some((p) => relevant.has(p.id))) {
        relevant.add(t.id);
        list.push(t);
      }
    }
  }
  return { list, relevant };
}
