"""What some sellers write in their profile ("About the seller" on every item page of theirs).

The demo's seller networks (docs/demo_market.md, "Seller networks"): three accounts give one phone number, each
written another way; two give one Telegram handle and one e-mail address, disguised. The numbers are in Ofcom's
range reserved for drama (07700 900000 to 900999), so they reach no one.
"""

SELLER_PROFILES = {
    "ke.tools.2024": "Trade enquiries welcome, call 07700 900461 after 6pm.",
    "dazza_1987": "WhatsApp me on +44 7700 900 461 for anything not listed.",
    "m4x_tools_uk": "txt zero seven seven double oh, nine double oh, four six one. cash on collection",
    "rf-lab-store": "Custom firmware on request. Telegram t.me/rflab_direct, mail rflab (at) protonmail dot com",
    "secure-motor-uk": "Questions? Message us on Telegram: @RFLab_Direct. Mon-Fri 9-5.",
    "parts4cars_uk": "Family business since 1998. All parts new and boxed. VAT invoice supplied.",
}
