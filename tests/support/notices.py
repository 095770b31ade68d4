"""Reading back the notices a store holds."""

from db import notices


def notices_in(store) -> list[dict]:
    """Every recorded notice, oldest first, as db.notices.get_notice returns it."""
    numbers = [row["number"] for row in store.query("SELECT number FROM notices ORDER BY created_at, id")]
    return [notices.get_notice(store, number) for number in numbers]
