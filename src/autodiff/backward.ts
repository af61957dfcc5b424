// Reverse accumulation over the recorded graph, restricted to the paths between outputs and inputs.

import { zerosLike } from '../core/creation.js';
import { add } from '../core/ops.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { Tensor, withGradMode } from '../core/tensor.js';

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
  if (outputs.length !== cotangents.length) throw new Error(`backward: ${outputs.length} outputs but ${cotangents.length} cotangents`);
  outputs.forEach((o, i) => {
    if (!shapesEqual(o.shape, cotangents[i].shape)) {
      throw new Error(`backward: cotangent ${i} has shape ${formatShape(cotangents[i].shape)}, output has ${formatShape(o.shape)}`);
    }
  });
  const inputIds = new Set(inputs.map((t) => t.id));
  const stopIds = new Set((opts.stopAt ?? []).map((t) => t.id));
  const order = relevantTopoOrder(outputs, inputIds, stopIds);
  const cts = new Map<number, Tensor>();
  const accumulate = (t: Tensor, c: Tensor): void => {
    const prev = cts.get(t.id);
    cts.set(t.id, prev === undefined ? c : add(prev, c));
  };
  return withGradMode(opts.createGraph ?? false, () => {
    outputs.forEach((o, i) => {
      if (order.relevant.has(o.id)) accumulate(o, cotangents[i]);
    });
    for (let i = order.list.length - 1; i >= 0; i--) {
      const t = order.list[i];
      if (inputIds.has(t.id) || t.node === null) continue;
      const c = cts.get(t.id);
      if (c === undefined) continue;
      cts.delete(t.id);
      const parts = t.node.vjp(c, t.node.inputs.map((x) => order.relevant.has(x.id)));
      t.node.inputs.forEach((x, k) => {
        const p = parts[k];
        if (p !== null && order.relevant.has(x.id)) {
          if (!shapesEqual(p.shape, x.shape)) {
            throw new Error(`backward: rule '${t.node!.name}' returned cotangent ${formatShape(p.shape)} for input ${formatShape(x.shape)}`);
          }
          accumulate(x, p);
        }
      });
    }
    return inputs.map((x) => cts.get(x.id) ?? zerosLike(x));
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
