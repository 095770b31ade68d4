"""Links between sellers and the networks they form: what links, what must not (stock photos, boilerplate)."""

import random

from networks import THRESHOLD, build_networks, find_links, pair_scores
from networks.photos import DHASH_MAX, near_pairs
from tests.support.network_records import page, photo

COPY = (
    "Relay repeater set for keyless cars, two units, the small one goes near the key and the big one stays "
    "by the car. Opens and starts most German brands in seconds. Tested and working, sold as seen."
)
BOILERPLATE = (
    "Returns accepted within 30 days of delivery. Please check out my other items and add me to your "
    "favourite sellers. Posted Royal Mail tracked 48 on the next working day."
)


def kinds(found, a, b):
    return sorted(link.kind for link in found.links if (link.a, link.b) == tuple(sorted((a, b))))


def test_a_phone_number_written_three_ways_links_three_sellers_into_one_network():
    pages = [
        page("alpha", "Call 07700 900123 for trade prices"),
        page("bravo", "whatsapp +44 7700 900 123", marketplace="other"),
        page("charlie", "text me: zero seven seven double oh nine double oh one two three"),
        page("delta", "No contact details here, just a speaker"),
    ]
    found = find_links(pages)
    assert {(link.a, link.b) for link in found.links} == {
        ("demo:alpha", "demo:charlie"),
        ("demo:alpha", "other:bravo"),
        ("demo:charlie", "other:bravo"),
    }
    [network] = build_networks(found.links, found.listings_of)
    assert network.sellers == ["demo:alpha", "demo:charlie", "other:bravo"]
    assert network.marketplaces == ["demo", "other"]
    assert len(network.listings) == 3


def test_each_link_names_who_wrote_the_item_first_and_where():
    later = page("late_copier", "ring 07700900123", at="2026-11-05T10:00:00.000000Z")
    first = page("original", "ring 07700 900123", at="2026-10-01T09:00:00.000000Z")
    [link] = find_links([later, first]).links
    assert link.first.seller == "demo:original"
    assert link.first.capture_id == first.source.capture_id
    assert link.first.text == "07700 900123"
    evidence = link.evidence()
    assert evidence["item"] == "+447700900123" and len(evidence["occurrences"]) == 2


def test_link_ids_are_stable_and_do_not_depend_on_order():
    pages = [page("a1", "ring 07700900123"), page("b1", "ring 07700900123")]
    first = find_links(pages).links[0].id
    assert find_links(list(reversed(pages))).links[0].id == first
    assert find_links([page("a1", "t.me/someone"), page("b1", "t.me/someone")]).links[0].id != first


def test_copied_descriptions_link_but_shared_boilerplate_does_not():
    pages = [
        page("maker", COPY),
        page("copier", COPY.replace("Tested and working", "Fully tested") + " " + BOILERPLATE),
    ]
    # Five other sellers paste the same returns and postage template under unrelated descriptions.
    for n, product in enumerate(["guitar amp", "phone case", "garden hose", "led bulbs", "dash camera"]):
        pages.append(page(f"shop{n}", f"A {product} in good condition, {n} months old. " + BOILERPLATE))
    found = find_links(pages)
    assert kinds(found, "demo:maker", "demo:copier") == ["description"]
    assert all(link.kind != "description" or "shop" not in link.a + link.b for link in found.links)
    assert [n.sellers for n in build_networks(found.links, found.listings_of)] == [["demo:copier", "demo:maker"]]


def test_a_stock_photo_shown_by_many_sellers_links_no_one():
    stock = (0x0F0F_0F0F_0F0F_0F0F, 0x1234_5678_9ABC_DEF0)
    pages_photos = [photo(f"seller{n}", *stock) for n in range(6)]
    found = find_links([], pages_photos)
    assert found.links == [] and found.stock == {"photo": 1}


def test_near_copies_of_a_photo_are_one_picture():
    original = (0xF0F0_F0F0_F0F0_F0F0, 0xAAAA_5555_AAAA_5555)
    watermarked = (original[0] ^ 0b1011, original[1] ^ 0xFF)  # 3 dHash bits, 8 pHash bits
    unrelated = (original[0] ^ 0xFFFF_0000_0000_0000, original[1])
    found = find_links([], [photo("a", *original), photo("b", *watermarked), photo("c", *unrelated)])
    assert [(link.a, link.b, link.kind) for link in found.links] == [("demo:a", "demo:b", "photo")]
    # One photo is a lead, not a network; two are.
    assert build_networks(found.links, found.listings_of) == []
    second = (0x1234_1234_1234_1234, 0x4321_4321_4321_4321)
    found = find_links([], [photo("a", *original), photo("b", *watermarked), photo("a", *second), photo("b", *second)])
    assert len(build_networks(found.links, found.listings_of)) == 1


def test_the_photo_index_finds_what_comparing_all_pairs_finds():
    rng = random.Random(15)
    hashes = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(300)]
    for i in range(0, 300, 3):  # near copies: a few bits flipped in each hash
        flips = rng.sample(range(64), rng.randint(0, DHASH_MAX + 2))
        d, p = hashes[i]
        hashes.append((d ^ sum(1 << b for b in flips), p ^ sum(1 << b for b in rng.sample(range(64), 5))))
    brute = {
        (i, j)
        for i in range(len(hashes))
        for j in range(i + 1, len(hashes))
        if (hashes[i][0] ^ hashes[j][0]).bit_count() <= DHASH_MAX and (hashes[i][1] ^ hashes[j][1]).bit_count() <= 14
    }
    assert len(brute) > 50
    assert set(near_pairs(hashes)) == brute


def test_names_link_only_across_marketplaces_and_never_alone():
    pages = [
        page("KeyTools_UK", "nothing", marketplace="demo"),
        page("k3ytools-uk", "nothing", marketplace="ebay"),
        page("keytools.uk2", "nothing", marketplace="demo"),  # same marketplace as the first: not compared
        page("toolshed", "nothing", marketplace="gumtree"),
    ]
    found = find_links(pages)
    pairs = {(link.a, link.b) for link in found.links}
    assert ("demo:KeyTools_UK", "ebay:k3ytools-uk") in pairs
    assert ("demo:KeyTools_UK", "demo:keytools.uk2") not in pairs
    assert not any("toolshed" in a + b for a, b in pairs)
    assert build_networks(found.links, found.listings_of) == []


def test_a_name_and_a_photo_together_join_a_pair():
    shared = (0x1111_2222_3333_4444, 0x5555_6666_7777_8888)
    found = find_links(
        [page("keytools_uk", marketplace="demo"), page("keytools_uk", marketplace="ebay")],
        [photo("keytools_uk", *shared, marketplace="demo"), photo("keytools_uk", *shared, marketplace="ebay")],
    )
    assert pair_scores(found.links)[("demo:keytools_uk", "ebay:keytools_uk")] >= THRESHOLD
    assert len(build_networks(found.links, found.listings_of)) == 1


def test_the_same_seller_never_links_to_itself_and_sellerless_pages_are_skipped():
    pages = [page("solo", "ring 07700900123"), page("solo", "ring 07700900123"), page("", "ring 07700900123")]
    assert find_links(pages).links == []


def test_the_description_index_finds_what_comparing_all_pairs_finds():
    from networks.texts import JACCARD_MIN, read, similar_groups

    rng = random.Random(15)
    vocabulary = [f"word{n}" for n in range(3000)]
    docs = {}
    for n in range(120):
        words = rng.choices(vocabulary, k=40)
        docs[f"orig{n}"] = " ".join(words)
        for _ in range(rng.randint(1, 6)):  # a copy with a few words replaced
            words[rng.randrange(40)] = rng.choice(vocabulary)
        docs[f"copy{n}"] = " ".join(words)
    shingled = {name: (read(text)[1], {f"demo:{name}"}) for name, text in docs.items()}
    brute = set()
    names = sorted(shingled)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            x, y = shingled[a][0], shingled[b][0]
            if len(x & y) / len(x | y) >= JACCARD_MIN:
                brute.add((a, b))
    assert len(brute) > 40
    found = {tuple(group) for group in similar_groups(shingled, boilerplate_sellers=4) if len(group) == 2}
    assert found == brute
