#!/usr/bin/env python3
"""Independent check that a published CSV is k-anonymous, with pycanon (not S-Data's own code).

    check_k_anonymity.py FILE.csv K QUASI_IDENTIFIER [QUASI_IDENTIFIER ...]

Prints the k pycanon measures and exits 1 when it is below K.
"""
import sys

import pandas as pd
from pycanon import anonymity


def main() -> int:
    path, wanted, quasi_identifiers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    if data.empty:
        print(f"{path}: no rows published; k-anonymity holds vacuously")
        return 0
    k = anonymity.k_anonymity(data, quasi_identifiers)
    print(f"{path}: pycanon measures k = {k} over {quasi_identifiers} ({len(data)} rows); required k >= {wanted}")
    return 0 if k >= wanted else 1


if __name__ == "__main__":
    sys.exit(main())
