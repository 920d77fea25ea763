"""The draw's arithmetic, "sha256-per-worker-v1": the seed, and the case a seed picks for a worker
from their pool in each round. Pure functions: anyone can recompute a recorded draw with them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence

from qa_tui.errors import ValidationError

ALGORITHM = "sha256-per-worker-v1"
SEED_MAX_LENGTH = 80


def new_seed() -> str:
    return secrets.token_hex(16)


def derive_index(seed: str, worker_key: str, pool_size: int, round_no: int = 0) -> int:
    """The index into a pool of `pool_size` for this seed, worker (staff ID) and round.

    Algorithm "sha256-per-worker-v1": int(sha256(f"{seed}:{staff_id}")) mod pool size for the
    original pick; re-draw round n hashes f"{seed}:{staff_id}:{n}" instead (see `derive_pick`).
    The digest is a 256-bit integer and a pool has far fewer than 2**32 cases, so the modulo bias
    is below 2**-224 and no rejection step is needed. A worker's choice depends only on the seed
    and their own staff ID, so adding or removing a worker changes no one else's pick."""
    if pool_size < 1:
        raise ValueError("cannot pick from an empty pool")
    message = f"{seed}:{worker_key}" if round_no == 0 else f"{seed}:{worker_key}:{round_no}"
    digest = hashlib.sha256(message.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % pool_size


def derive_pick(seed: str, worker_key: str, pool: Sequence[str], round_no: int = 0,
                earlier: Iterable[str] = ()) -> str | None:
    """The case reference picked in `round_no` from `pool` (references in Python string order,
    i.e. by Unicode code point, never database collation) less the `earlier` picks for the same
    worker; None when nothing is left."""
    taken = set(earlier)
    candidates = [reference for reference in pool if reference not in taken]
    if not candidates:
        return None
    return candidates[derive_index(seed, worker_key, len(candidates), round_no)]


def check_seed(seed: str) -> str:
    seed = seed.strip()
    if not seed:
        raise ValidationError("seed", "a seed cannot be empty")
    if len(seed) > SEED_MAX_LENGTH:
        raise ValidationError("seed", f"a seed is at most {SEED_MAX_LENGTH} characters")
    if ":" in seed or any(ch.isspace() for ch in seed):
        # ":" separates seed, staff ID and round in the hashed text; a colon would make it ambiguous.
        raise ValidationError("seed", "a seed may not contain ':' or spaces")
    return seed
