"""Regenerates data/customers.csv: a small, realistic churn dataset with a few dirty rows."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

CONTRACTS = ["month-to-month", "one-year", "two-year"]


def main(rows: int = 400, seed: int = 7) -> None:
    rng = random.Random(seed)
    out = Path(__file__).parent / "data" / "customers.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "customer_id",
                "tenure_months",
                "monthly_charges",
                "support_calls",
                "contract",
                "paperless_billing",
                "churned",
            ]
        )
        for i in range(rows):
            contract = rng.choices(CONTRACTS, weights=[5, 3, 2])[0]
            tenure = max(1, int(rng.gauss(30 if contract != "month-to-month" else 12, 10)))
            charges = round(rng.uniform(20, 110), 2)
            calls = min(9, int(rng.expovariate(0.6)))
            paperless = rng.random() < 0.6
            score = (
                -1.5
                + 0.03 * charges
                - 0.06 * tenure
                + 0.45 * calls
                + (1.2 if contract == "month-to-month" else -0.8)
                + 0.3 * paperless
            )
            churned = int(rng.random() < 1 / (1 + math.exp(-score)))
            row = [
                f"C{i:04d}",
                tenure,
                charges,
                calls,
                contract,
                "yes" if paperless else "no",
                churned,
            ]
            if rng.random() < 0.03:  # dirty rows the notebook has to clean
                row[rng.choice([1, 2, 4])] = ""
            w.writerow(row)


if __name__ == "__main__":
    main()
