"""Development phrase bank: the part the watchlist is tuned against (see make_corpus.py).

Written after bank_heldout.py with deliberately different wording, models and products.
"""

CARS = [
    "Lexus NX",
    "Toyota Corolla",
    "Range Rover Evoque",
    "Kia Ceed",
    "Hyundai i30",
    "Ford Kuga",
    "Ford Transit",
    "VW Tiguan",
    "Mercedes GLC",
    "BMW 3 Series",
    "Audi Q5",
    "Nissan Juke",
    "Jaguar F-Pace",
    "Mini Cooper",
    "Skoda Octavia",
    "Seat Leon",
    "Volvo XC60",
    "Porsche Macan",
]

POSITIVES = {
    "relay_attack": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"car": CARS, "dist": ["40 metres", "60m", "200m open space", "25m through walls"]},
        "keys": ["relay", "keyless", "repeater", "amplifier", "range extender", "booster"],
        "titles": [
            "Keyless Relay Set (2 devices) newest model",
            "Smart key signal booster kit - house unit + car unit",
            "Relay attack box for keyless cars - {dist}",
            "Keyless Entry Repeater Kit with case",
            "Long range keyless tester / relay ({dist})",
            "Car key range extender for smart keys",
            "Keyless Amplifier Professional Edition",
        ],
        "bland_titles": ["Gadget pair - message me", "Black box x2", "Radio tester kit"],
        "reveal": [
            "Partner stands by the front door with the big unit, "
            "you walk to the {car} with the small unit and it opens.",
            "Picks up the smart key through the wall and relays it to the car, push start works.",
            "Relays the keyless signal {dist}, tested on {car}.",
            "Keyless entry relay: receiver near the key, transmitter at the car.",
            "Boosts smart key range so the vehicle unlocks from {dist} away.",
            "Works on all passive keyless entry systems (PKES).",
        ],
        "generic": [
            "Li-ion batteries, charge via USB.",
            "Comes in a hard case.",
            "Quiet, no lights.",
            "Trade only.",
            "Last one in stock.",
            "Worldwide shipping.",
            "Video proof available.",
            "Locksmith tool.",
        ],
    },
    "key_programmer": {
        "count": 17,
        "obfuscated": 6,
        "slots": {
            "car": CARS,
            "model": [
                "Autel IM508S",
                "Xhorse Key Tool Plus",
                "Lonsdor K518S",
                "OBDSTAR X300 Pro4",
                "CGDI CG100",
                "SKP900",
                "Xhorse Mini OBD Tool",
                "Autel XP400 Pro",
                "Launch X431 IMMO Plus",
                "T-Code Pro",
                "KeyDIY KD-X2",
                "Yanhua ACDP",
                "Smart Pro AD100",
                "JMD Handy Baby",
                "Zedbull",
                "Abrites AVDI full",
            ],
        },
        "keys": ["key programmer", "immobiliser", "programmer", "key programming", "all keys lost", "IMMO"],
        "titles": [
            "{model} car key programmer",
            "{model} IMMO programmer - full package",
            "Key Programming Tool {model} for {car}",
            "{model} + 10 blank smart keys",
            "Immobiliser Programmer OBD {model}",
            "{model} all keys lost adapter kit",
        ],
        "bland_titles": ["Garage equipment - tablet", "Car electronics - job lot", "Handheld tool in case - ask"],
        "reveal": [
            "Add a key or all keys lost for {car} through the OBD socket.",
            "Key programming, remote learning, immobiliser reset, PIN code reading.",
            "Programs proximity keys and transponders for {car} in about 10 minutes.",
            "Makes working keys from blanks, no dealer visit needed.",
            "Clone ID48 and ID46 transponders and write them to the car.",
        ],
        "generic": [
            "All cables included.",
            "Latest update installed.",
            "Selling due to retirement.",
            "Barely used.",
            "Comes with VAT invoice.",
            "Locksmith use only.",
            "English and Polish menus.",
            "Ask for video.",
        ],
    },
    "can_injection": {
        "count": 17,
        "obfuscated": 6,
        "slots": {
            "car": ["Toyota RAV4 2020", "Lexus UX", "Toyota Yaris Cross", "Lexus LX", "Toyota Highlander", "Lexus IS"]
        },
        "keys": ["CAN", "injector", "injection", "headlight", "smart start"],
        "titles": [
            "CAN Invader for {car}",
            "CAN injection kit - headlight plug adapter",
            "Emergency start CAN box {car}",
            "CAN tool in speaker - Toyota / Lexus",
            "Smart Start Device {car} (CAN)",
        ],
        "bland_titles": ["Portable speaker - special edition", "Wire harness adapter with box"],
        "reveal": [
            "Unclip the headlight, connect the plug, press the button: doors open and engine starts.",
            "Sends messages on the CAN bus so the car thinks a valid key is present.",
            "For {car}: connect to the CAN wires at the wheel arch and start the car without a key.",
            "Injector hidden in a working speaker case.",
            "CAN bus unlock and start in under 2 minutes on {car}.",
        ],
        "generic": [
            "Plug and play.",
            "Works on 2019-2024 models.",
            "Compact.",
            "Includes adapter harness.",
            "Battery powered.",
            "Other models on request.",
        ],
    },
    "key_emulator": {
        "count": 17,
        "obfuscated": 6,
        "slots": {
            "car": ["Kia Sportage", "Hyundai Kona", "Toyota C-HR", "Lexus RX", "Nissan X-Trail", "Range Rover Velar"]
        },
        "keys": ["emulator", "gameboy", "Game Boy", "emergency start", "smart key"],
        "titles": [
            "Emulator for {car} keyless start",
            "Game Boy device - unlock and start {car}",
            "Emergency Start Unit {car}",
            "Keyless Emulator 2024 (Kia/Hyundai/Genesis)",
            "Smart key emulator - works on {car}",
        ],
        "bland_titles": ["Handheld gadget - read", "Console style box"],
        "reveal": [
            "Start the {car} with push button start without the owner's key.",
            "Learns the car's smart key and then emulates it to unlock and start.",
            "Gameboy case: press A to open the doors, B to start the engine.",
            "Emulates the proximity key, engine starts with no key present.",
        ],
        "generic": [
            "Firmware 3.2.",
            "Comes with charging cable.",
            "Tested this week.",
            "Small and light.",
            "Fast postage.",
        ],
    },
    "code_grabber": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"freq": ["433.92MHz", "315MHz", "868MHz"]},
        "keys": ["grabber", "codegrabber", "code grabber", "KeeLoq", "rolling code", "alarm scanner"],
        "titles": [
            "Grabber for car alarms {freq}",
            "Code Grabber Pro - dynamic codes",
            "Alarm Scanner KeeLoq {freq}",
            "Rolling code scanner / grabber for car remotes",
            "Universal grabber {freq} StarLine Pandora",
        ],
        "bland_titles": ["Radio device - pm", "Small black remote {freq}"],
        "reveal": [
            "Records the car remote when the owner presses lock, then opens the car with the saved code.",
            "Works with KeeLoq and other rolling code alarms.",
            "Captures dynamic codes from key fobs within 80m.",
            "Scanner for car alarm remotes: grab, store and replay.",
        ],
        "generic": [
            "Memory for 50 codes.",
            "Easy menu.",
            "USB charging.",
            "Tested.",
            "Sent from EU.",
        ],
    },
    "signal_jammer": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"freq": ["433MHz", "315/433/868MHz", "GPS", "GPS+GSM"]},
        "keys": ["jammer", "jamming", "blocker"],
        "titles": [
            "Portable {freq} jammer for car remotes",
            "Vehicle GPS blocker - plug in 12V",
            "Remote Jammer {freq} 8 antennas",
            "Car Jammer high power {freq}",
            "GPS Jammer + GSM Jammer combo",
        ],
        "bland_titles": ["Car accessory 12V (see text)", "Black box with antennas"],
        "reveal": [
            "Stops the key fob locking the car within 50m.",
            "Blocks vehicle trackers from sending their position.",
            "Jamming range 10-30m on {freq}.",
            "Plug it in the cigarette lighter and trackers stop working.",
        ],
        "generic": ["Cooling fan.", "Battery pack included.", "Worldwide use.", "Black metal case."],
    },
    "mechanical_entry": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"blade": ["HU66", "HU100R", "HU64", "TOY43AT", "HU101", "HU83", "HY22", "FO38", "SIP22"]},
        "keys": ["Lishi", "lockout", "jiggler", "pick", "tryout", "slim jim", "puller"],
        "titles": [
            "Lishi {blade} pick/decoder",
            "{blade} 2-in-1 Lishi style tool",
            "Car lockout kit, air wedge + long reach",
            "Jiggler keys for cars, 20 pcs",
            "Auto lock pick set for car doors",
            "Ignition lock puller for Ford / Vauxhall",
            "Slimjim car opening tool",
        ],
        "bland_titles": ["Locksmith bits - bundle", "Tool roll - see pics"],
        "reveal": [
            "Picks and decodes {blade} locks on the car door and ignition.",
            "Opens locked car doors without damage using the wedge and long reach.",
            "Jiggler keys turn most older ignitions.",
            "Pulls the lock cylinder out of the door in seconds.",
        ],
        "generic": ["Genuine.", "Hardened steel.", "Comes with case.", "For locksmiths.", "Used but good."],
    },
}

FOREIGN = {
    "de": [
        (
            "key_programmer",
            "Autoschlüssel Programmiergerät OBD2 Immobilizer",
            "Schlüssel anlernen und Fernbedienung programmieren, alle Schlüssel verloren.",
        ),
        ("code_grabber", "Code Grabber 433 MHz Alarmanlage", "Fängt Rolling Codes von Autoschlüsseln ab."),
        ("none", "Keyless Schutzhülle RFID Blocker für Autoschlüssel", "Schützt vor Keyless-Diebstahl, 2er Set."),
        ("none", "OBD Diagnosegerät Fehlerspeicher auslesen", "Liest und löscht Fehlercodes, Live-Daten."),
    ],
    "fr": [
        (
            "relay_attack",
            "Amplificateur de signal clé mains libres voiture",
            "Deux boîtiers, portée 30 m, ouvre et démarre les voitures sans clé.",
        ),
        (
            "mechanical_entry",
            "Kit d'ouverture de porte voiture serrurier",
            "Coussin gonflable et tige longue, ouverture sans dégât.",
        ),
        ("none", "Boîte Faraday pour clés de voiture", "Protège contre le vol par relais. Grande taille."),
    ],
    "es": [
        ("relay_attack", "Repetidor keyless para coche 2 unidades", "Amplificador de señal de llave, alcance 50 m."),
        (
            "code_grabber",
            "Capturador de códigos para alarmas de coche",
            "Captura códigos rolling de mandos a distancia.",
        ),
        ("none", "Bloqueo de volante para coche antirrobo", "Acero reforzado, universal."),
    ],
    "pl": [
        ("signal_jammer", "Zagłuszacz GPS do samochodu 12V", "Zagłusza lokalizatory GPS i GSM."),
        ("relay_attack", "Walizka keyless do otwierania aut", "Przedłużacz sygnału kluczyka, dwa moduły."),
        ("none", "Etui Faraday na kluczyk samochodowy", "Chroni przed kradzieżą metodą na walizkę."),
    ],
    "ro": [
        (
            "mechanical_entry",
            "Set deschidere auto profesional",
            "Pernă gonflabilă și tijă lungă pentru deschiderea ușilor.",
        ),
        ("code_grabber", "Cod grabber 433MHz alarme auto", "Captează codurile telecomenzilor auto."),
        ("none", "Blocator volan auto antifurt", "Oțel, universal, două chei."),
    ],
}

CONFUSABLE = [
    {
        "count": 12,
        "titles": [
            "Faraday Bag for Keyless Car Keys (2 pack)",
            "RFID Key Fob Pouch - blocks relay theft",
            "Car Key Faraday Box Large",
            "Signal Blocker Pouch for car keys",
            "Anti-theft Keyless Key Wallet",
        ],
        "descs": [
            "Stops criminals using relay devices to copy your key signal.",
            "Put your keys in overnight.",
            "Tested against keyless entry, phones and contactless cards.",
            "Faraday fabric lining.",
            "Thieves can boost your key fob signal from outside; this bag blocks it.",
        ],
    },
    {
        "count": 7,
        "titles": ["Steering Lock Twin Bar Anti Theft", "Pedal Lock Car Security", "Gear Stick Lock Heavy"],
        "descs": [
            "Highly visible theft deterrent.",
            "Works with any car, even if thieves clone the key.",
            "Solid steel construction.",
            "Keyless cars are targeted by relay boxes: add a physical lock.",
        ],
    },
    {
        "count": 7,
        "titles": ["OBD Lock Protector Range Rover", "OBD Port Security Lock for Ford", "OBD Blocker Plug"],
        "descs": [
            "Stops key programming via the OBD port.",
            "Blocks thieves from plugging in programming tools.",
            "Easy fit, no wiring.",
        ],
    },
    {
        "count": 11,
        "titles": [
            "OBD2 Scanner Car Diagnostic Tool Fault Reader",
            "Bluetooth ELM327 OBD2 Adapter",
            "Professional OBD2 Scanner ABS SRS Oil Reset",
            "Autel MaxiCheck MX808 Diagnostic Tablet",
        ],
        "descs": [
            "Reads engine fault codes.",
            "Live data stream and graphing.",
            "Oil service reset and EPB.",
            "Does not do key programming.",
            "Supports all OBD2 protocols.",
        ],
    },
    {
        "count": 7,
        "titles": [
            "WiFi Booster Range Extender 1200Mbps",
            "Wireless Repeater for Home Broadband",
            "Netgear WiFi Mesh Extender",
        ],
        "descs": ["Eliminates WiFi dead zones.", "Compatible with all routers.", "Dual band 2.4 and 5GHz."],
    },
    {
        "count": 4,
        "titles": ["4G Mobile Signal Booster Kit for Home", "Cell Signal Repeater EE Three O2"],
        "descs": ["Improves 4G calls and data.", "Ofcom approved.", "Outdoor antenna included."],
    },
    {
        "count": 4,
        "titles": ["TV Aerial Booster Amplifier 2 Way", "Signal Amplifier for TV aerial"],
        "descs": ["Boosts Freeview reception.", "Mains powered.", "Easy install."],
    },
    {
        "count": 5,
        "titles": ["Boss Katana 50 Guitar Amplifier", "Orange Crush 20 Guitar Amp", "Car Amplifier 4 Channel 1000W"],
        "descs": ["Great tone.", "Light use only.", "Boxed.", "Bridgeable to 2 channels."],
    },
    {
        "count": 5,
        "titles": ["Relay Module 1 Channel 5V Arduino", "Raspberry Pi Relay HAT"],
        "descs": ["Optocoupler isolation.", "Switch mains loads from GPIO.", "Screw terminals."],
    },
    {
        "count": 5,
        "titles": ["Horn Relay 12V Universal", "Glow Plug Relay for Ford Transit", "Starter Relay for VW Golf"],
        "descs": ["Replacement relay.", "Fits original socket.", "Part number matches OEM."],
    },
    {
        "count": 7,
        "titles": [
            "Flip Key Shell Case for Ford",
            "Key Fob Cover Silicone for Kia",
            "Replacement Remote Case + Blank Blade",
        ],
        "descs": ["No chip or circuit board.", "Have the blade cut by a locksmith.", "Replaces a broken shell."],
    },
    {
        "count": 5,
        "titles": ["Genuine Ford Remote Key Fob", "OEM Smart Key for Toyota keyless entry"],
        "descs": ["Needs to be programmed to the car by a dealer or auto locksmith.", "Genuine part.", "Blade uncut."],
    },
    {
        "count": 4,
        "titles": ["Energizer CR2032 Coin Battery 6 Pack", "Key fob battery replacement kit"],
        "descs": ["For key fobs and watches.", "3 volt lithium.", "Includes tool."],
    },
    {
        "count": 7,
        "titles": [
            "Garage Door Remote Copy 433MHz",
            "Electric Gate Remote Duplicator",
            "Universal Garage Remote Cloning",
        ],
        "descs": [
            "Copies fixed code gate and garage remotes.",
            "Not for rolling code systems.",
            "Face to face copy in seconds.",
        ],
    },
    {
        "count": 4,
        "titles": ["Dash Cam 1080p with Parking Mode", "Mirror Dash Camera Front Rear"],
        "descs": ["Loop recording.", "G-sensor.", "Night vision."],
    },
    {
        "count": 5,
        "titles": ["Mini GPS Tracker for Vehicles", "Car Tracker with App, no subscription"],
        "descs": ["Live location.", "Geofence alerts.", "Magnetic case."],
    },
    {
        "count": 5,
        "titles": ["Portable Jump Starter 1500A", "Car Battery Booster Pack with Compressor"],
        "descs": ["Starts a flat battery in seconds.", "USB power bank.", "Emergency start for 12V vehicles."],
    },
    {
        "count": 5,
        "titles": ["Game Boy Pocket Console Grey", "Nintendo Gameboy with Super Mario Land"],
        "descs": ["Working.", "Cartridge included.", "Some wear on the case."],
    },
    {
        "count": 4,
        "titles": ["JBL Go 3 Bluetooth Speaker", "JBL Xtreme 3 Portable Speaker"],
        "descs": ["Waterproof.", "Great bass.", "Charges your phone."],
    },
    {
        "count": 3,
        "titles": ["Tango Shoes Mens Leather", "Tango Dance Shoes Women Size 6"],
        "descs": ["Suede sole.", "Ballroom and tango.", "Worn once."],
    },
    {
        "count": 3,
        "titles": ["Dent Puller Slide Hammer Bodywork", "Slide Hammer Puller Set 5lb"],
        "descs": ["For panel beating.", "Bearing and hub pulling.", "Heavy duty."],
    },
    {
        "count": 3,
        "titles": ["Practice Padlock Transparent + Lock Pick Set", "Locksport Starter Kit"],
        "descs": ["See-through padlock to learn picking.", "Hobby set.", "For locks you own."],
    },
    {"count": 2, "titles": ["Slim Jim Mild Meat Snacks 12 Pack"], "descs": ["Smoked meat snack.", "Multipack."]},
    {
        "count": 3,
        "titles": ["CANbus Error Free LED H7 Bulbs", "CANbus Decoder for LED Headlights"],
        "descs": ["Stops dashboard warning.", "Load resistor built in.", "Plug into the headlight connector."],
    },
    {
        "count": 2,
        "titles": ["AdBlue Emulator Removal Module", "NOx Sensor Emulator"],
        "descs": ["Plug and play emulator.", "For trucks."],
    },
    {
        "count": 2,
        "titles": ["Locksmith Business Cards Printing", "Auto Locksmith Van Signs"],
        "descs": ["Printed vinyl.", "Next day delivery."],
    },
]

PLAIN = [
    {
        "count": 4,
        "titles": ["Car Seat Covers Full Set", "Sun Shade Windscreen"],
        "descs": ["Universal fit.", "Foldable.", "Black."],
    },
    {
        "count": 4,
        "titles": ["Laptop Stand Aluminium", "Wireless Mouse"],
        "descs": ["Adjustable.", "Quiet clicks.", "USB receiver."],
    },
    {
        "count": 4,
        "titles": ["Garden Hose 30m", "Patio Heater"],
        "descs": ["Kink free.", "Used twice.", "Collection only."],
    },
]

AMBIGUOUS = [
    ("ambiguous", "Flipper Zero unleashed", "Comes with sub-GHz apps pre-installed. Use responsibly."),
    ("ambiguous", "SDR receiver kit with antennas", "RTL-SDR dongle for scanning radio bands 24-1766MHz."),
    ("ambiguous", "Key Duplicating Machine Silca", "Cuts house and car keys. Ex shop."),
    ("ambiguous", "Blank transponder keys x5 for VW", "Blank keys with chips, need cutting and programming."),
    ("ambiguous", "Locksmith tension tools set", "Professional tension wrenches, various sizes."),
    ("ambiguous", "ECU immo off service", "Immobiliser removal for ECU replacement, send us your ECU."),
]

HANDWRITTEN = [
    (
        "key_programmer",
        "Autel IM608 - for licensed locksmith use only",
        "Sold only to trade. Key programming, all keys lost, IMMO.",
    ),
    ("relay_attack", "Electronics project (2 pcs)", "Keyless go relay, transmitter and receiver, 100m, works on VAG."),
    ("signal_jammer", "Car accessory", "GPS blocker for vehicles, plug in, trackers go dark."),
    ("none", "Keyless Car Theft Protection Pouch", "Blocks relay attacks and code grabbers."),
    ("none", "Autowatch Ghost Immobiliser Fitted", "Protects against key cloning, relay attack and CAN injection."),
]
