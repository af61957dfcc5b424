// The error that ends a bilevel run as diverged: a non-finite loss, hypergradient or inverse-HVP, with where it happened.

export class BilevelDivergence extends Error {
  constructor(readonly metaEpoch: number, readonly step: number, readonly what: string) {
    super(`diverged at meta-epoch ${metaEpoch}, inner step ${step}: ${what}`);
  }
}
