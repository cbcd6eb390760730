"""DuckDB's side of `borough-bench query`.

Loads the benchmark's CSV of employment-participation records (the rows read
back from the node's store) into an in-memory DuckDB table once, untimed, then
runs the query `--runs` times after one warm-up run, each time fetching the
whole result, and prints one JSON object on stdout: per-run milliseconds, the
result's shape and column sums (so the harness can check DuckDB computed what
borough-net's engine computes), DuckDB's version, threads and table memory.

The query mirrors the engine's measures `participants`, `job-outcome-rate-6m`
and `job-outcome-rate-12m` grouped by `resident-borough`, `start-month`,
`programme`: per cell, the distinct people who started in that month; of them,
those whose 6 (12) months have passed by the reference month (the cohort), and
of those, the people with a job outcome within 6 (12) months of the start.
Like the engine, it also gives the total over resident boroughs of every
(start month, programme). Months are month indexes (year * 12 + month - 1).
"""

import argparse
import json
import sys
import time

import duckdb

COLUMNS = {
    "participant": "VARCHAR",
    "programme": "VARCHAR",
    "delivering_borough": "VARCHAR",
    "resident_borough": "VARCHAR",
    "eligibility": "VARCHAR",
    "age_band": "VARCHAR",
    "sex": "VARCHAR",
    "referral_month": "INTEGER",
    "start_month": "INTEGER",
    "first_earnings_month": "INTEGER",
    "job_outcome_month": "INTEGER",
    "sustained_month": "INTEGER",
    "childcare_barrier": "BOOLEAN",
}

# The measured columns, in the order the harness expects their sums.
MEASURES = ["participants", "cohort_6m", "outcomes_6m", "cohort_12m", "outcomes_12m"]


def query(as_of: int) -> str:
    def cohort(months: int) -> str:
        return f"start_month + {months} <= {as_of}"

    def outcome(months: int) -> str:
        return (
            f"{cohort(months)} AND job_outcome_month IS NOT NULL"
            f" AND job_outcome_month - start_month <= {months}"
        )

    return f"""
        SELECT
            resident_borough,
            start_month,
            programme,
            GROUPING(resident_borough) AS is_total,
            COUNT(DISTINCT participant) AS participants,
            COUNT(DISTINCT participant) FILTER (WHERE {cohort(6)}) AS cohort_6m,
            COUNT(DISTINCT participant) FILTER (WHERE {outcome(6)}) AS outcomes_6m,
            COUNT(DISTINCT participant) FILTER (WHERE {cohort(12)}) AS cohort_12m,
            COUNT(DISTINCT participant) FILTER (WHERE {outcome(12)}) AS outcomes_12m
        FROM employment
        WHERE start_month IS NOT NULL
        GROUP BY GROUPING SETS (
            (resident_borough, start_month, programme),
            (start_month, programme)
        )
    """


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--as-of", type=int, required=True, help="reference month index")
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()

    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    started = time.perf_counter()
    con.execute(
        "CREATE TABLE employment AS SELECT * FROM read_csv(?, header = true, columns = ?)",
        [args.csv, COLUMNS],
    )
    load_ms = (time.perf_counter() - started) * 1e3
    rows = con.execute("SELECT count(*) FROM employment").fetchone()[0]
    memory = con.execute(
        "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
    ).fetchone()[0]

    sql = query(args.as_of)
    runs_ms = []
    result = []
    for i in range(args.runs + 1):
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        elapsed = (time.perf_counter() - started) * 1e3
        if i > 0:
            runs_ms.append(elapsed)

    totals = sum(1 for r in result if r[3] == 1)
    sums = {m: sum(r[4 + k] for r in result) for k, m in enumerate(MEASURES)}
    print(
        json.dumps(
            {
                "duckdb_version": duckdb.__version__,
                "python_version": sys.version.split()[0],
                "threads": int(threads),
                "rows_loaded": rows,
                "load_ms": load_ms,
                "table_memory_bytes": int(memory or 0),
                "runs_ms": runs_ms,
                "result_rows": len(result),
                "total_rows": totals,
                "sums": sums,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
