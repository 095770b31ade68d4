"""A small generic web shop under /shop/, for the `webshop` spider.

Its products are the catalogue rows that carry a `shop` style, and each product page exposes its data in
exactly one way: schema.org JSON-LD, microdata, OpenGraph meta tags, or only <title> + meta description.
Shop pages link only to other /shop/ pages, so a spider started at /shop/ stays in the shop.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from .catalogue import DEPARTMENTS, format_price
from .pages import esc, jsonld, product_jsonld

SHOP_NAME = "Motorparts & Gadgets Direct"
PER_PAGE = 3  # small, so categories paginate with only a handful of products


def _page(title: str, body: str, *, head: str = "", description: str = "", og: bool = False) -> str:
    # OpenGraph's product: namespace is only recognised when declared.
    prefix = ' prefix="og: https://ogp.me/ns# product: https://ogp.me/ns/product#"' if og else ""
    meta = f'<meta name="description" content="{esc(description)}">\n' if description else ""
    return f"""<!DOCTYPE html>
<html lang="en-GB"{prefix}>
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
{meta}{head}</head>
<body class="shop">
<header class="shop-header"><a class="shop-logo" href="/shop/">{SHOP_NAME}</a></header>
{body}
<footer class="shop-footer"><p>&copy; {SHOP_NAME} (demo shop). Prices include VAT.</p></footer>
</body>
</html>
"""


def shop_departments(products: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in products:
        grouped.setdefault(row["department"], []).append(row)
    return grouped


def shop_home(products: list[dict]) -> str:
    links = "\n".join(
        f'  <li><a class="shop-category" href="/shop/category/{esc(slug)}">{esc(DEPARTMENTS[slug])}</a>'
        f" ({len(rows)})</li>"
        for slug, rows in sorted(shop_departments(products).items())
    )
    body = f"""<main>
 <h1>Welcome to {SHOP_NAME}</h1>
 <h2>Departments</h2>
 <ul class="shop-categories">
{links}
 </ul>
</main>"""
    return _page(SHOP_NAME, body, description="Car security, diagnostics, keys and gadgets. Fast UK delivery.")


def shop_category(slug: str, rows: list[dict], page: int) -> tuple[str, bool]:
    """(html, found); found is False when the page number is past the end."""
    pages = max(1, math.ceil(len(rows) / PER_PAGE))
    if page < 1 or page > pages:
        return "", False
    chunk = rows[(page - 1) * PER_PAGE : page * PER_PAGE]
    tiles = "\n".join(
        f"""  <article class="product-tile">
   <a class="product-tile__link" href="/shop/product/{esc(r["id"])}">{esc(r["title"])}</a>
   <span class="product-tile__price">{esc(format_price(r["price"], r["currency"]))}</span>
  </article>"""
        for r in chunk
    )
    nav = []
    if page > 1:
        nav.append(
            f'<a class="prev" rel="prev" href="/shop/category/{esc(slug)}?{urlencode({"page": page - 1})}">'
            "&laquo; Previous</a>"
        )
    if page < pages:
        nav.append(
            f'<a class="next" rel="next" href="/shop/category/{esc(slug)}?{urlencode({"page": page + 1})}">'
            "Next &raquo;</a>"
        )
    body = f"""<main>
 <nav class="crumbs"><a href="/shop/">Shop</a> &rsaquo; {esc(DEPARTMENTS[slug])}</nav>
 <h1>{esc(DEPARTMENTS[slug])}</h1>
 <div class="product-grid">
{tiles}
 </div>
 <nav class="pager">{" ".join(nav)} <span>Page {page} of {pages}</span></nav>
</main>"""
    return _page(f"{DEPARTMENTS[slug]} | {SHOP_NAME}", body), True


def shop_product(row: dict, base_url: str, *, ended: bool = False) -> str:
    style = row["shop"]
    url = f"{base_url}/shop/product/{row['id']}"
    price = format_price(row["price"], row["currency"])
    crumbs = (
        '<nav class="crumbs"><a href="/shop/">Shop</a> &rsaquo; '
        f'<a href="/shop/category/{esc(row["department"])}">{esc(DEPARTMENTS[row["department"]])}</a></nav>'
    )
    notice = '\n <p class="sold-out">This listing has ended: the product is no longer available.</p>' if ended else ""
    head = f'<link rel="canonical" href="{esc(url)}">\n'
    title = f"{row['title']} | {SHOP_NAME}"
    if style == "microdata":
        availability = "OutOfStock" if ended else "InStock"
        body = f"""<main>
 {crumbs}{notice}
 <div class="product" itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">{esc(row["title"])}</h1>
  <meta itemprop="sku" content="{esc(row["id"])}">
  {f'<meta itemprop="brand" content="{esc(row["brand"])}">' if row.get("brand") else ""}
  <div class="product-offer" itemprop="offers" itemscope itemtype="https://schema.org/Offer">
   <meta itemprop="priceCurrency" content="{esc(row["currency"])}">
   <span class="product-price" itemprop="price" content="{esc(row["price"])}">{esc(price)}</span>
   <link itemprop="availability" href="https://schema.org/{availability}">
   <span itemprop="seller" itemscope itemtype="https://schema.org/{esc(row["seller_type"])}"
    ><meta itemprop="name" content="{esc(row["seller"])}"></span>
  </div>
  <div class="product-description" itemprop="description"><p>{esc(row["description"])}</p></div>
 </div>
</main>"""
        return _page(title, body, head=head)
    body = f"""<main>
 {crumbs}{notice}
 <div class="product">
  <h1 class="product-name">{esc(row["title"])}</h1>
  <p class="product-price">{esc(price)}</p>
  <div class="product-description"><p>{esc(row["description"])}</p></div>
 </div>
</main>"""
    if style == "jsonld":
        data = product_jsonld(row, base_url, "OutOfStock" if ended else "InStock")
        data["url"] = data["offers"]["url"] = url
        head += f'<script type="application/ld+json">\n{jsonld(data)}\n</script>\n'
        return _page(title, body, head=head)
    if style == "opengraph":
        og = [
            ("og:type", "product"),
            ("og:site_name", SHOP_NAME),
            ("og:url", url),
            ("og:title", row["title"]),
            ("og:description", row["description"]),
            ("product:price:amount", row["price"]),
            ("product:price:currency", row["currency"]),
            ("product:retailer_item_id", row["id"]),
            ("product:availability", "oos" if ended else "instock"),
        ]
        head += "".join(f'<meta property="{k}" content="{esc(v)}">\n' for k, v in og)
        return _page(title, body, head=head, og=True)
    # "meta": no structured data at all, only what every page has.
    return _page(title, body, head=head, description=row["description"])
