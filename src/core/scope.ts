// Deterministic release of temporaries: tidy()/tidyAsync() dispose every tensor made inside them except the ones they return or keep().

/** What a scope tracks: a tensor (anything that can be disposed). */
export interface Disposable {
  dispose(): void;
}

interface Scope {
  readonly made: Set<Disposable>;
}

const scopes: Scope[] = [];

/** Called by the Tensor constructor: the innermost open scope (if any) owns the new tensor. */
export function track(t: Disposable): void {
  const s = scopes[scopes.length - 1];
  if (s !== undefined) s.made.add(t);
}

/**
 * Marks t as long-lived: no tidy scope disposes it (state written by mutation inside a scope, such as batch
 * norm's running statistics or an optimizer's new parameters). Returns t.
 */
export function keep<T extends Disposable>(t: T): T {
  // A tensor is tracked once, when it is made: out of every open scope, no scope will dispose it.
  for (const s of scopes) s.made.delete(t);
  return t;
}

/** Whether any tidy scope is open (kernels that cache tensors must not cache them inside one). */
export function inScope(): boolean {
  return scopes.length > 0;
}

/**
 * Runs fn and disposes every tensor created during the call that is not part of its result (found in
 * arrays and plain objects, at any depth) and not kept; the result's tensors move to the enclosing scope.
 * Tensors shared by reference (variable(), detach()) count their storage, so a parameter outlives the views
 * made of it. The result's graph nodes may point at disposed tensors: differentiate inside the scope.
 * Also on an exception, everything made inside is disposed.
 */
export function tidy<T>(fn: () => T): T {
  const scope = open();
  let result: T | undefined;
  let ok = false;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: fn returned a Promise; use tidyAsync for async functions');
    ok = true;
    return result;
  } finally {
    close(scope, ok ? result : undefined);
  }
}

/**
 * tidy for an async fn. Every tensor created while fn runs (until its Promise settles) belongs to the
 * scope, including tensors made by other code interleaved at its awaits: run one scoped step at a time.
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = open();
  let result: T | undefined;
  let ok = false;
  try {
    result = await fn();
    ok = true;
    return result;
  } finally {
    close(scope, ok ? result : undefined);
  }
}

function open(): Scope {
  const s: Scope = { made: new Set() };
  scopes.push(s);
  return s;
}

function close(scope: Scope, result: unknown): void {
  const i = scopes.lastIndexOf(scope);
  if (i !== scopes.length - 1) {
    // Leave its tensors to the garbage collector: code in the still-open inner scope may be using them.
    scopes.splice(i, 1);
    throw new Error(`tidy: scopes closed out of order (${scopes.length - i} inner scope(s) still open); await each tidyAsync before starting the next`);
  }
  scopes.pop();
  const survivors = new Set<Disposable>();
  collect(result, scope.made, survivors, new Set());
  const parent = scopes[scopes.length - 1];
  for (const t of scope.made) {
    if (survivors.has(t)) parent?.made.add(t);
    else t.dispose();
  }
}

/** The scope's tensors reachable from v through arrays and plain objects. */
function collect(v: unknown, made: Set<Disposable>, out: Set<Disposable>, seen: Set<object>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (made.has(v as Disposable)) {
    out.add(v as Disposable);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) collect(x, made, out, seen);
    return;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) for (const x of Object.values(v)) collect(x, made, out, seen);
}
