// Modules with named parameters grouped by layer, and functional calls that swap parameter values in.

import type { Tensor } from '../core/tensor.js';
import { formatShape, shapesEqual } from '../core/shape.js';

/** A trainable tensor slot: its dotted name, the layer it belongs to, and its current value. */
export class Parameter {
  constructor(
    public value: Tensor,
    public name = '',
    public layer = '',
  ) {}
}

/** Forward-pass context: batch-norm behaviour and whether running statistics may change. */
export interface ForwardContext {
  training: boolean;
  /** Update batch-norm running statistics (off inside HVPs and finite differences). */
  updateStats?: boolean;
  /** Momentum of this pass's running-statistics update instead of each BatchNorm's own (1/k on pass k: exact averages). */
  statsMomentum?: number;
}

export abstract class Module {
  private readonly paramSlots = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  protected param(name: string, value: Tensor): Parameter {
    const p = new Parameter(value, name, '');
    this.paramSlots.set(name, p);
    return p;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;

  /** All parameters in a stable order, with names `a.b.weight` and layer `a.b`. */
  parameters(prefix = ''): Parameter[] {
    const out: Parameter[] = [];
    for (const [n, p] of this.paramSlots) {
      p.name = prefix ? `${prefix}.${n}` : n;
      p.layer = prefix;
      out.push(p);
    }
    for (const [n, c] of this.children) out.push(...c.parameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Non-trainable state (batch-norm running statistics), named like parameters. */
  buffers(prefix = ''): Parameter[] {
    const out: Parameter[] = [...this.ownBuffers(prefix)];
    for (const [n, c] of this.children) out.push(...c.buffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  protected ownBuffers(_prefix: string): Parameter[] {
    return [];
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }
}

/** Distinct layer names in parameter order (per-layer hyperparameters use one entry per layer). */
export function layersOf(params: readonly Parameter[]): string[] {
  return [...new Set(params.map((p) => p.layer))];
}

/**
 * Evaluates fn with the model's parameters temporarily replaced by `values` (same order as
 * model.parameters()), so that transforms can differentiate the model as a function of them.
 */
export function functionalCall<T>(model: Module, values: readonly Tensor[], fn: () => T): T {
  const params = model.parameters();
  if (values.length !== params.length) throw new Error(`functionalCall: model has ${params.length} parameters, ${values.length} values given`);
  const saved = params.map((p) => p.value);
  params.forEach((p, i) => {
    if (!shapesEqual(p.value.shape, values[i].shape)) {
      throw new Error(`functionalCall: value for '${p.name}' has shape ${formatShape(values[i].shape)}, expected ${formatShape(p.value.shape)}`);
    }
    p.value = values[i];
  });
  try {
    return fn();
  } finally {
    params.forEach((p, i) => (p.value = saved[i]));
  }
}
