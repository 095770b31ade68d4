"""Whether a fetched page is a robot check or captcha instead of the page asked for: such a page is counted as
blocked, never read as "no listings here" or stored as a listing. keywatch does not try to get past them.

Cheap first: most pages are screened out by a few cue words on their raw bytes; only a page holding one is decoded and
searched for the markers whose cue it holds.
"""

import codecs
import functools
import re
import string

from spiders.parsing import clean


class BlockedPage(ValueError):
    """The site answered with a robot check or captcha instead of the page: not an empty listing."""


# Phrases of the challenge pages themselves (Amazon's robot check, eBay's "Pardon Our Interruption", Cloudflare,
# AliExpress's slider). Only looked for in the page title and in short visible texts: a listing may quote them.
BLOCK_TITLES = (
    "robot check",
    "security measure",
    "pardon our interruption",
    "just a moment...",
    "attention required",
    "access denied",
    "captcha",
    "are you a robot",
    "verify you are human",
)
BLOCK_PHRASES = (
    "enter the characters you see below",
    "type the characters you see in this image",
    "make sure you're not a robot",
    "make sure you\u2019re not a robot",
    "to discuss automated access to amazon data",
    "verify you are a human",
    "verify you are human",
    "checking your browser before accessing",
    "checking if the site connection is secure",
    "unusual traffic from your",
    "slide to verify",
    "please slide to verify",
    "pardon our interruption",
    "the request is blocked",
)
BLOCK_URLS = (
    "/errors/validatecaptcha",
    "/splashui/captcha",
    "/splashui/challenge",
    "_____tmd_____",
    "/cdn-cgi/challenge-platform",
)
SHORT_PAGE = 5000  # visible characters; challenge pages are far below this, real listing pages far above
CAPTCHA_FORMS = "#captchacharacters, input[name=captcha], #px-captcha, .g-recaptcha, #nc_1_wrapper"


def _words(marker: str) -> tuple[str, ...]:
    """A marker's words, longest (the most telling) first."""
    return tuple(sorted(set(re.findall(r"[a-z]+", marker)), key=lambda word: (len(word), word), reverse=True))


# Every marker above holds one of these, as a word of its own: a page whose text (markup and all) holds none of
# them is no challenge page, and is not searched for one. Most pages stop here, before any selector runs.
CUES = tuple(
    sorted({_words(marker)[0] for marker in BLOCK_TITLES + BLOCK_PHRASES} | {"captcha", "challenge", "_____tmd_____"})
) + ("nc_1_wrapper",)
# Reading a page's visible text (XPath over every text node) costs more than the rest of the check together:
# it is read only when the page holds every word of some phrase.
PHRASE_WORDS = tuple(_words(phrase) for phrase in BLOCK_PHRASES)
TITLE_WORDS = tuple(_words(title) for title in BLOCK_TITLES)
CAPTCHA_FORM_CUES = ("captcha", "nc_1_wrapper")  # in every selector of CAPTCHA_FORMS
# The address markers' cues: a page holds a marker only if it holds one of these.
URL_CUES = frozenset(cue for cue in CUES if any(cue in marker for marker in BLOCK_URLS))


@functools.lru_cache(maxsize=64)
def writes_ascii_as_is(encoding: str) -> bool:
    """Whether a page in `encoding` holds each ASCII character of its text as that very byte, so that a cue in its
    lower-cased text is in its lower-cased bytes too (no cue has a letter that a non-ASCII one lower-cases to: the
    Kelvin sign's k, or the i of U+0130, which comes with a combining dot). Not so for UTF-16 and UTF-32, EBCDIC,
    or UTF-7 (letters may be written in base64)."""
    try:
        name = codecs.lookup(encoding).name
        return name != "utf-7" and string.printable.encode(name) == string.printable.encode("ascii")
    except (LookupError, UnicodeError):
        return False


# The only characters besides ASCII that lower-case to ASCII (tests/test_spider_robustness.py pins them).
LOWERS_TO_ASCII = ("\u0130", "\u212a")


def ascii_lowered(text: str) -> str:
    """What `text.lower()` holds for a search for ASCII words: the same ASCII, other characters left as they are.
    Lower-casing text that is not all ASCII (a page with a pound sign) goes character by character, several times
    the cost of lower-casing its UTF-8 bytes; only the ASCII letters matter here."""
    if text.isascii() or any(char in text for char in LOWERS_TO_ASCII):
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


def cues_in(response) -> frozenset[str]:
    """The cues the page may hold: cheap, on its bytes, for the encodings where that says it (then a cue found may
    still be a false one, in a multi-byte character: each check below looks for its words in the decoded text);
    else those in its lower-cased text."""
    if writes_ascii_as_is(response.encoding):
        # Most pages are screened out on their raw bytes, before any decoding or Unicode lower-casing. Read as
        # Latin-1, byte for character: `in` on bytes first tries each cue as an integer, and raises and clears an
        # error for each (an eighth of what the check cost).
        page = response.body.lower().decode("latin-1")
    else:
        page = ascii_lowered(response.text)
    return frozenset(filter(page.__contains__, CUES))


def blocked_reason(response) -> str | None:
    """Why `response` is a robot check rather than the page asked for, or None."""
    if not hasattr(response, "css"):
        return None
    url = response.url.lower()
    for marker in BLOCK_URLS:
        if marker in url:
            return f"challenge address {marker}"
    present = cues_in(response)
    if not present:
        return None
    page = ascii_lowered(response.text)  # only ever searched for the ASCII markers and their words
    # Only the markers whose cue (their longest word) the page holds can be in it: a page with a common cue word
    # ("security", in many car listings) is searched for one or two markers, not every one.
    # Each selector below runs only when what it looks for is in the page at all (a cue word is common).
    if present & URL_CUES and any(marker in page for marker in BLOCK_URLS):
        forms = " ".join(response.css("form::attr(action)").getall()).lower()
        for marker in BLOCK_URLS:
            if marker in forms:
                return f"challenge address {marker}"
    if any(cue in present and cue in page for cue in CAPTCHA_FORM_CUES) and response.css(CAPTCHA_FORMS):
        return "captcha form"
    # AliExpress sends its slider via a script redirect.
    if "_____tmd_____" in present and "_____tmd_____/punish" in response.text[:20000]:
        return "challenge address _____tmd_____"
    if any(all(word in page for word in words) for words in TITLE_WORDS if words[0] in present):
        title = clean(" ".join(response.css("title::text").getall())).lower()
        for marker in BLOCK_TITLES:
            if marker in title:
                return f"page title {title!r}"
    if not any(all(word in page for word in words) for words in PHRASE_WORDS if words[0] in present):
        return None
    visible = " ".join(response.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall())
    visible = clean(visible).lower()
    if len(visible) < SHORT_PAGE:
        for marker in BLOCK_PHRASES:
            if marker in visible:
                return f"page says {marker!r}"
    return None


def refuse_blocked(response) -> None:
    """Raise BlockedPage for a robot check, so it is never read as a page without listings."""
    reason = blocked_reason(response)
    if reason:
        raise BlockedPage(f"blocked by a robot check ({reason})")
