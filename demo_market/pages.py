"""HTML for the marketplace pages: home, search results, item pages and their failure modes.

Every piece of catalogue text goes through `esc()` (or `jsonld()` inside <script>), because listings are
hostile input by nature: sellers paste markup into titles and descriptions.
"""

from __future__ import annotations

import json
from html import escape
from urllib.parse import urlencode

from .catalogue import DEPARTMENTS, format_price
from .photos import photo_names
from .sellers import SELLER_PROFILES

SITE_NAME = "DemoMarket"


def esc(text) -> str:
    return escape(str(text), quote=True)


def jsonld(data: dict) -> str:
    """JSON for a <script> element: '<', '>' and '&' escaped so text can never close the element."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def layout(title: str, body: str, *, head: str = "", description: str = "") -> str:
    meta = f'<meta name="description" content="{esc(description)}">\n' if description else ""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="stylesheet" href="/static/market.css">
{meta}{head}</head>
<body>
<header class="site-header">
 <a class="site-logo" href="/">{SITE_NAME}</a>
 <form class="search-form" action="/search" method="get" role="search">
  <input class="search-form__input" type="search" name="q" placeholder="Search for anything" aria-label="Search">
  <button class="search-form__submit" type="submit">Search</button>
 </form>
 <a class="account-link" href="/account/">My account</a>
</header>
{body}
<footer class="site-footer"
 ><p>{SITE_NAME} is a demonstration marketplace bundled with keywatch. No item here is for sale.</p></footer>
</body>
</html>
"""


def home_page() -> str:
    links = "\n".join(
        f'  <li><a class="category-link" href="/search?{urlencode({"dept": slug})}">{esc(name)}</a></li>'
        for slug, name in DEPARTMENTS.items()
    )
    body = f"""<main class="home">
 <h1>Buy and sell on {SITE_NAME}</h1>
 <form class="search-form search-form--hero" action="/search" method="get" role="search">
  <input type="search" name="q" placeholder="What are you looking for?" aria-label="Search">
  <button type="submit">Search</button>
 </form>
 <p><a class="browse-all" href="/search?q=">Browse all listings</a></p>
 <h2>Shop by category</h2>
 <ul class="category-list">
{links}
 </ul>
</main>"""
    return layout(f"{SITE_NAME} | Buy and sell", body, description="Electronics, car parts, tools and more.")


def _search_url(params: dict, page: int) -> str:
    query = {k: v for k, v in params.items() if v}
    query.setdefault("q", "")
    query["page"] = page
    return "/search?" + urlencode(query)


def result_card(row: dict) -> str:
    return f"""  <li class="result-card" data-listing-id="{esc(row["id"])}">
   <a class="result-card__link" href="/item/{esc(row["id"])}"
    ><h3 class="result-card__title">{esc(row["title"])}</h3></a>
   <span class="result-card__price">{esc(format_price(row["price"], row["currency"]))}</span>
   <span class="result-card__condition">{esc(row["condition"])}</span>
   <span class="result-card__seller">Seller: <span class="result-card__seller-name">{esc(row["seller"])}</span></span>
   <span class="result-card__location">{esc(row["location"])}</span>
  </li>"""


def broken_result_card(row: dict) -> str:
    """The same card after an imagined redesign: none of the selectors a spider knows still match."""
    return f"""  <div class="srp-tile" data-tile="{esc(row["id"])}">
   <div class="srp-tile__name" onclick="location.href='/item/{esc(row["id"])}'">{esc(row["title"])}</div>
   <div class="srp-tile__cost">{esc(format_price(row["price"], row["currency"]))}</div>
  </div>"""


def search_page(rows: list[dict], total: int, page: int, pages: int, params: dict, *, broken: bool = False) -> str:
    q = params.get("q", "")
    if params.get("dept"):
        what = f"in {esc(DEPARTMENTS.get(params['dept'], params['dept']))}"
    elif params.get("seller"):
        what = f"from seller {esc(params['seller'])}"
    elif q:
        what = f"for <q>{esc(q)}</q>"
    else:
        what = "in all listings"
    nav = []
    if page > 1:
        nav.append(f'<a class="pagination__prev" rel="prev" href="{esc(_search_url(params, page - 1))}">Previous</a>')
    nav.append(f'<span class="pagination__current">Page {page} of {max(pages, 1)}</span>')
    if page < pages:
        nav.append(f'<a class="pagination__next" rel="next" href="{esc(_search_url(params, page + 1))}">Next</a>')
    if broken:
        cards = "\n".join(broken_result_card(r) for r in rows)
        results = f' <div class="srp-grid">\n{cards}\n </div>'
    elif rows:
        cards = "\n".join(result_card(r) for r in rows)
        results = f' <ul class="results">\n{cards}\n </ul>'
    else:
        results = ' <p class="no-results">No exact matches found.</p>'
    body = f"""<main class="search-results">
 <h1 class="results-heading"><span class="results-count">{total:,}</span> results {what}</h1>
{results}
 <nav class="pagination" aria-label="Pagination">{" ".join(nav)}</nav>
</main>"""
    title = f"{q} for sale | {SITE_NAME}" if q else f"All listings | {SITE_NAME}"
    return layout(title, body)


def photo_urls(row: dict, base_url: str) -> list[str]:
    return [f"{base_url}/img/{name}.png" for name in photo_names(row)]


def product_jsonld(row: dict, base_url: str, availability: str = "InStock") -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": row["title"],
        "description": row["description"],
        "sku": row["id"],
        "url": f"{base_url}/item/{row['id']}",
        "itemCondition": "https://schema.org/" + ("NewCondition" if row["condition"] == "New" else "UsedCondition"),
        "offers": {
            "@type": "Offer",
            "url": f"{base_url}/item/{row['id']}",
            "price": row["price"],
            "priceCurrency": row["currency"],
            "availability": f"https://schema.org/{availability}",
            "seller": {"@type": row["seller_type"], "name": row["seller"]},
        },
        "image": photo_urls(row, base_url),
    }
    if row.get("script_price"):
        del data["offers"]["price"]  # the page's script fetches it (item_page)
    if row.get("brand"):
        data["brand"] = {"@type": "Brand", "name": row["brand"]}
    return data


def _price(row: dict) -> str:
    return (
        f'<div class="item-price" data-value="{esc(row["price"])}" data-currency="{esc(row["currency"])}"\n'
        f"  >{esc(format_price(row['price'], row['currency']))}</div>"
    )


def _script_price(row: dict) -> str:
    """The price as script-heavy marketplaces (AliExpress) show it: fetched and filled in by a script, so it is in
    the rendered page only, never in the HTML as served."""
    return f"""<div class="item-price" data-currency="{esc(row["currency"])}" aria-live="polite"></div>
 <script>
  fetch("/api/price/" + {jsonld(row["id"])}).then(function (r) {{ return r.json(); }}).then(function (p) {{
   var el = document.querySelector(".item-price");
   el.dataset.value = p.price; el.textContent = p.display;
  }});
 </script>"""


def price_json(row: dict) -> str:
    """What /api/price/<id> answers for a listing whose page fetches its price."""
    return json.dumps(
        {"price": row["price"], "currency": row["currency"], "display": format_price(row["price"], row["currency"])}
    )


# A harmless inline script and a form: hostile input for the review UI's safe-display tests.
def _hostile_extras(row: dict) -> str:
    return f"""
 <script>window.dmAnalytics = {{"page": "item", "id": {json.dumps(row["id"])}}};
  document.documentElement.dataset.tracked = "1";</script>
 <form class="make-offer" action="/account/offer" method="post">
  <input type="hidden" name="item" value="{esc(row["id"])}">
  <label>Your offer <input name="amount" inputmode="decimal"
   placeholder="{esc(format_price(row["price"], row["currency"]))}"></label>
  <button type="submit">Make offer</button>
 </form>"""


def item_page(row: dict, base_url: str, *, ended: bool = False) -> str:
    canonical = f"{base_url}/item/{row['id']}"
    dept = DEPARTMENTS[row["department"]]
    ld = product_jsonld(row, base_url, "OutOfStock" if ended else "InStock")
    head = (
        f'<link rel="canonical" href="{esc(canonical)}">\n'
        f'<script type="application/ld+json">\n{jsonld(ld)}\n</script>\n'
    )
    specifics = [("Item number", row["id"]), ("Condition", row["condition"])]
    if row.get("brand"):
        specifics.append(("Brand", row["brand"]))
    specifics += [("Item location", row["location"]), ("Listed", row["listed"][:10])]
    rows_html = "\n".join(f'   <tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in specifics)
    gallery = "\n".join(
        f'  <img class="gallery__photo" src="{esc(url)}" alt="{esc(row["title"])}" width="240" height="180">'
        for url in photo_urls(row, base_url)
    )
    price = _script_price(row) if row.get("script_price") else _price(row)
    profile = SELLER_PROFILES.get(row["seller"])
    about = f'<p class="seller-about">{esc(profile)}</p>' if profile else ""
    status = (
        (
            '\n <div class="item-status item-status--ended" role="status">This listing has ended. '
            "The seller has ended this listing or the item is no longer available.</div>"
        )
        if ended
        else ""
    )
    body = f"""<nav class="breadcrumb" aria-label="Breadcrumb">
 <ol>
  <li><a href="/">Home</a></li>
  <li><a href="/search?{esc(urlencode({"dept": row["department"]}))}">{esc(dept)}</a></li>
  <li aria-current="page">{esc(row["title"])}</li>
 </ol>
</nav>
<main class="item" data-listing-id="{esc(row["id"])}">{status}
 <h1 class="item-title">{esc(row["title"])}</h1>
 <div class="gallery">
{gallery}
 </div>
 {price}
 <p class="item-condition-line">Condition: <span class="item-condition">{esc(row["condition"])}</span></p>
 <div class="seller-info">
  Sold by <a class="seller-name" href="/search?{esc(urlencode({"seller": row["seller"]}))}">{esc(row["seller"])}</a>
  <span class="seller-type">{"Business seller" if row["seller_type"] == "Organization" else "Private seller"}</span>
  {about}
 </div>
 <section class="item-specifics">
  <h2>Item specifics</h2>
  <table class="item-specifics__table">
{rows_html}
  </table>
 </section>
 <section class="item-description">
  <h2>Item description from the seller</h2>
  <div id="description">
   <p>{esc(row["description"])}</p>
  </div>
 </section>{_hostile_extras(row) if row.get("hostile") else ""}
</main>"""
    return layout(f"{row['title']} | {SITE_NAME}", body, head=head, description=row["description"][:150])


def malformed_item_page(row: dict, base_url: str) -> str:
    """A page cut off mid-transfer with broken JSON-LD: the crawl must log it, count it and carry on."""
    full = item_page(row, base_url)
    # Drop a closing brace from the JSON-LD and cut the document off inside the description.
    start = full.index('<script type="application/ld+json">')
    end = full.index("</script>", start)
    broken_ld = full[start:end].rstrip().rstrip("}") + ',\n "offers": {"price": '
    full = full[:start] + broken_ld + full[end:]
    return full[: full.index('<div id="description">') + len('<div id="description">\n   <p>') + 20]


def broken_item_page(row: dict) -> str:
    """The item page after an imagined redesign: no h1.item-title, .item-price, #description or JSON-LD."""
    body = f"""<div class="vi-wrapper" data-ref="{esc(row["id"])}">
 <div class="vi-heading"><span class="vi-heading__text">{esc(row["title"])}</span></div>
 <div class="vi-cost">{esc(format_price(row["price"], row["currency"]))}</div>
 <div class="vi-body">{esc(row["description"])}</div>
</div>"""
    return layout(f"{row['title']} | {SITE_NAME}", body)


def message_page(title: str, message: str, *, css: str = "notice") -> str:
    body = (
        f'<main class="{esc(css)}">\n <h1>{esc(title)}</h1>\n <p>{esc(message)}</p>\n'
        ' <p><a href="/">Back to the home page</a></p>\n</main>'
    )
    return layout(f"{title} | {SITE_NAME}", body)


def account_page() -> str:
    body = """<main class="account">
 <h1>Sign in to your account</h1>
 <form class="sign-in" action="/account/" method="post">
  <label>Email <input type="email" name="email"></label>
  <label>Password <input type="password" name="password"></label>
  <button type="submit">Sign in</button>
 </form>
</main>"""
    return layout(f"Sign in | {SITE_NAME}", body)


# Enough style that a screenshot of an item page looks like a marketplace's.
MARKET_CSS = """body { font-family: sans-serif; margin: 0; color: #222; background: #fafafa; }
.site-header { display: flex; gap: 1em; align-items: center; padding: .8em 1.5em; background: #2d5d8a; }
.site-header a { color: #fff; text-decoration: none; font-weight: bold; }
.site-logo { font-size: 1.4em; }
main { max-width: 60em; margin: 1.5em auto; padding: 0 1.5em; }
.breadcrumb ol { list-style: none; display: flex; gap: .6em; padding: 0 1.5em; font-size: .85em; }
.item-title { font-size: 1.5em; }
.gallery { display: flex; gap: .8em; margin: 1em 0; }
.gallery__photo { border: 1px solid #ccc; background: #fff; }
.item-price { font-size: 1.8em; font-weight: bold; color: #b12704; min-height: 1.2em; }
.seller-info, .item-condition-line { margin: .4em 0; }
.item-specifics__table th { text-align: left; padding-right: 1em; color: #555; }
.site-footer { margin-top: 3em; padding: 1em 1.5em; font-size: .8em; color: #666; border-top: 1px solid #ddd; }
"""

ROBOTS_TXT = """User-agent: *
Disallow: /account/
Allow: /
"""
