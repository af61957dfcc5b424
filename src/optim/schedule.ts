// Learning-rate schedules as pure functions step -> lr: cosine annealing (PyTorch closed form) and FixMatch's cosine.

/** A learning-rate schedule: the lr to use for a given (0-based) step; the trainer assigns it to optimizer.lr. */
export type LrSchedule = (step: number) => number;

function checkRate(where: string, what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}: ${what} must be a finite number >= 0, got ${String(v)}`);
}

function checkTotal(where: string, total: number): void {
  if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0) {
    throw new Error(`${where}: total steps must be a finite number > 0, got ${String(total)}`);
  }
}

function checkStep(where: string, step: number): void {
  if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) throw new Error(`${where}: step must be a finite number >= 0, got ${String(step)}`);
}

/**
 * PyTorch CosineAnnealingLR in closed form, with base rate η₀, floor η_min and period T:
 *   η(t) = η_min + (η₀ − η_min) (1 + cos(π t / T)) / 2
 * so η(0) = η₀ and η(T) = η_min. Like PyTorch's closed form it is not clamped: past T it rises again.
 */
export function cosineAnnealingLr(baseLr: number, totalSteps: number, etaMin = 0): LrSchedule {
  const where = 'cosineAnnealingLr';
  checkRate(where, 'baseLr', baseLr);
  checkRate(where, 'etaMin', etaMin);
  checkTotal(where, totalSteps);
  return (step) => {
    checkStep(where, step);
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * step) / totalSteps))) / 2;
  };
}

/**
 * FixMatch's cosine decay over K steps: η(k) = η₀ cos(7 π k / (16 K)), falling from η₀ to η₀ cos(7π/16)
 * ≈ 0.195 η₀ at k = K. Clamped at 0 (as max(0, cos(...)) in the reference implementations) beyond 8K/7.
 */
export function fixMatchCosineLr(baseLr: number, totalSteps: number): LrSchedule {
  const where = 'fixMatchCosineLr';
  checkRate(where, 'baseLr', baseLr);
  checkTotal(where, totalSteps);
  return (step) => {
    checkStep(where, step);
    return baseLr * Math.max(0, Math.cos((7 * Math.PI * step) / (16 * totalSteps)));
  };
}

/** A schedule that always returns `lr`. */
export function constantLr(lr: number): LrSchedule {
  checkRate('constantLr', 'lr', lr);
  return (step) => {
    checkStep('constantLr', step);
    return lr;
  };
}
