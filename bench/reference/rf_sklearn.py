#!/usr/bin/env python3
"""scikit-learn reference for bench/rf/rf-bench.ts: fits RandomForestClassifier on the same .npy data
with the same settings and prints fit/predict wall times and fit CPU time (medians of --runs) and test accuracy as JSON."""
import argparse
import json
import statistics
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--x-train", required=True)
    ap.add_argument("--y-train", required=True)
    ap.add_argument("--x-test", required=True)
    ap.add_argument("--y-test", required=True)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--max-depth", type=int, default=16)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    x_train, y_train = np.load(a.x_train), np.load(a.y_train)
    x_test, y_test = np.load(a.x_test), np.load(a.y_test)
    fit_s, fit_cpu_s, predict_s, acc = [], [], [], None
    for _ in range(a.runs):
        rf = RandomForestClassifier(
            n_estimators=a.trees, max_depth=a.max_depth, max_features="sqrt", bootstrap=True,
            n_jobs=a.n_jobs, random_state=a.seed,
        )
        t, c = time.perf_counter(), time.process_time()
        rf.fit(x_train, y_train)
        fit_s.append(time.perf_counter() - t)
        fit_cpu_s.append(time.process_time() - c)
        t = time.perf_counter()
        pred = rf.predict(x_test)
        predict_s.append(time.perf_counter() - t)
        if acc is None:
            acc = float(np.mean(pred == y_test))
    print(json.dumps({
        "fit_s": statistics.median(fit_s),
        "predict_s": statistics.median(predict_s),
        "fit_cpu_s": statistics.median(fit_cpu_s),
        "fit_runs_s": fit_s,
        "accuracy": acc,
        "n_jobs": a.n_jobs,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
    }))


if __name__ == "__main__":
    main()
