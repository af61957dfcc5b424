# Reference timings for bench/linalg.ts: scipy/LAPACK Cholesky (dpotrf), LU (dgetrf) and LDLᵀ (dsytrf, optimal workspace) on one thread.
import json
import sys
import time

import numpy as np
import scipy.linalg as sl
from scipy.linalg import lapack


def main() -> None:
    sizes = [int(s) for s in sys.argv[1].split(",")]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    out = []
    for n in sizes:
        rng = np.random.default_rng(n)
        s = rng.standard_normal((n, n))
        spd = s @ s.T / n + np.eye(n)  # same construction as bench/linalg.ts
        gen = rng.standard_normal((n, n)) + 2 * np.sqrt(n) * np.eye(n)
        sym = (s + s.T) / 2

        def best(f):
            f()  # warm-up
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t)
            return min(ts), sum(ts) / len(ts)

        row = {"n": n}
        row["cholesky"] = best(lambda: sl.cho_factor(spd, lower=True, overwrite_a=False, check_finite=False))
        row["lu"] = best(lambda: sl.lu_factor(gen, overwrite_a=False, check_finite=False))
        # dsytrf's default workspace (lwork = 1 row) makes it take an unblocked slow path (~9x slower at
        # n = 4000); ask LAPACK for the optimal workspace as real callers do.
        lwork = int(lapack.dsytrf_lwork(n, lower=1)[0])
        row["ldlt"] = best(lambda: lapack.dsytrf(sym, lower=1, lwork=lwork, overwrite_a=0))
        row["ldlt_lwork"] = lwork
        out.append(row)
    print(json.dumps({"numpy": np.__version__, "scipy": __import__("scipy").__version__, "results": out}))


if __name__ == "__main__":
    main()
