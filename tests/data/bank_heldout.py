"""Held-out phrase bank: written first, before the watchlist was tuned; never tuned on.

See make_corpus.py. Slots in {braces} are filled at random from `slots`.
"""

CARS = [
    "Toyota RAV4",
    "Lexus RX",
    "Range Rover Sport",
    "Ford Fiesta",
    "Ford Focus",
    "Kia Sportage",
    "Hyundai Tucson",
    "VW Golf",
    "Mercedes C-Class",
    "BMW X5",
    "Audi A4",
    "Nissan Qashqai",
    "Land Rover Discovery",
    "Toyota Land Cruiser",
    "Honda Civic",
    "Mazda CX-5",
    "Vauxhall Astra",
    "Peugeot 3008",
]
YEARS = ["2015-2023", "2018+", "up to 2022", "2010-2020", "all years", "2019 onwards"]

POSITIVES = {
    "relay_attack": {
        "count": 17,
        "obfuscated": 6,
        "slots": {
            "car": CARS,
            "range": ["30m", "50 metres", "100m", "up to 80m", "150m line of sight"],
            "freq": ["125kHz", "134kHz", "125/134KHz"],
        },
        "keys": ["keyless repeater", "relay box", "signal amplifier", "relay attack", "keyless", "repeater", "relay"],
        "titles": [
            "Keyless Repeater 2 Unit Kit {freq} Long Range",
            "Relay Box Keyless Entry Car Kit - {range}",
            "Keyless Entry Signal Amplifier Set for {car}",
            "Smart Key Range Extender Pro (Transmitter + Receiver)",
            "Keyless Go Repeater Device Latest Version {freq}",
            "Car Key Signal Booster Two Piece Relay System",
            "Professional Relay Attack Unit - opens & starts keyless cars",
            "Key Fob Signal Amplifier {freq} {range} range",
        ],
        "bland_titles": [
            "Electronic Kit 2pcs - see description",
            "Car accessory (read description)",
            "Two box set - tech",
            "Locksmith tool new in box",
        ],
        "reveal": [
            "One unit stands near the house to pick up the key fob, "
            "the second unit goes to the car door and the car thinks the key is there.",
            "Extends the signal of the smart key up to {range} so the car unlocks and starts with push button start.",
            "Tested on {car} {year}, opens and starts first time.".replace("{year}", "2021"),
            "Relay kit works with all keyless entry vehicles on {freq} LF band.",
            "Amplifies the keyless entry signal from the fob inside the property to the vehicle on the drive.",
            "Two unit relay, receiver and transmitter, both rechargeable, silent operation.",
            "Keyless repeater with upgraded antenna, range {range}, works through walls and doors.",
        ],
        "generic": [
            "Comes with 2 chargers and a carry bag.",
            "Battery lasts about 4 hours.",
            "Tested before dispatch.",
            "Discreet packaging.",
            "Works on most European and Japanese makes.",
            "Instructions in English.",
            "For locksmith and testing use only.",
            "No refunds once opened.",
            "Newest 2024 firmware.",
            "Ask me for the compatibility list.",
            "Cash or bank transfer only.",
        ],
    },
    "key_programmer": {
        "count": 17,
        "obfuscated": 6,
        "slots": {
            "car": CARS,
            "model": [
                "Autel MaxiIM IM508",
                "Autel IM608 Pro",
                "Xhorse VVDI Key Tool Max",
                "Lonsdor K518ISE",
                "OBDSTAR X300 DP Plus",
                "CGDI Prog BMW",
                "Launch X431 IMMO Elite",
                "SKP1000",
                "Xhorse VVDI2 Full",
                "Autel KM100",
                "Advanced Diagnostics Smart Pro",
                "Abrites AVDI",
                "Handy Baby 2",
                "CN900 Mini",
                "Zed-Full",
                "Tango programmer",
                "MVP Pro",
                "OBDSTAR Key Master DP",
            ],
        },
        "keys": ["key programmer", "IMMO", "all keys lost", "transponder", "programmer", "key programming"],
        "titles": [
            "{model} Key Programmer + IMMO Tool",
            "{model} - IMMO / All Keys Lost - latest software",
            "OBD2 Key Programmer {model} Transponder Cloner",
            "{model} Car Key Programming Tablet Full Licence",
            "Transponder Key Copier {model} with chips",
            "Auto Key Programmer OBD Immobiliser Tool for {car}",
            "Remote & Key Programmer - add keys / AKL - {model}",
            "{model}",
        ],
        "bland_titles": [
            "Diagnostic tablet, used once",
            "Auto locksmith tool bundle",
            "Car electronics tool - read info",
            "Garage clear out - tool in case",
        ],
        "reveal": [
            "Programs new keys via OBD in minutes, all keys lost supported on most models.",
            "Read PIN code, add key and all keys lost for {car}.",
            "Full IMMO functions: key learning, remote programming, transponder cloning (ID46/ID48/4D).",
            "Generates smart keys and remotes, no dealer needed.",
            "IMMO programming for {car} including proximity keys.",
            "Clones transponder chips and programs blank keys to the car's immobiliser.",
            "Key programmer with lifetime free updates, covers 99% of vehicles for key programming.",
        ],
        "generic": [
            "Comes in original carry case.",
            "English language.",
            "Software updated last month.",
            "For locksmith use only.",
            "Genuine unit, not a clone.",
            "Selling as I have upgraded.",
            "Includes OBD cable and USB lead.",
            "Tokens included.",
            "Professional tool for auto locksmiths.",
            "Collection or posted tracked.",
            "Trade buyers welcome.",
        ],
    },
    "can_injection": {
        "count": 17,
        "obfuscated": 6,
        "slots": {
            "car": [
                "Toyota RAV4",
                "Lexus RX",
                "Toyota Land Cruiser",
                "Lexus NX",
                "Toyota C-HR",
                "Toyota Hilux",
                "Lexus ES",
                "Toyota Prius",
            ]
        },
        "keys": ["CAN injector", "CAN injection", "smart start box", "headlight", "CAN bus", "injector"],
        "titles": [
            "CAN Injector for {car} - headlight connector kit",
            "CAN Bus Injection Tool {car} 2019-2023",
            "Smart Start Box Toyota Lexus - emergency start via CAN",
            "Headlight Connector CAN Kit - unlock and start",
            "CAN Injection Device in JBL speaker case",
            "Power bank CAN injector {car} plug and play",
        ],
        "bland_titles": [
            "Bluetooth speaker (special)",
            "Power bank 10000mAh - modified",
            "Car wiring kit - see description",
        ],
        "reveal": [
            "Plug into the headlight wiring, press the button and the car unlocks and starts without the key.",
            "Connects to the CAN bus behind the front headlight and sends the key-valid message.",
            "Works on {car}: access the CAN wires through the wheel arch, doors unlock, push start works.",
            "CAN injection unit hidden inside a working speaker, nobody will know.",
            "Injector plugs into the headlamp connector, no need to enter the car.",
            "Emergency start for {car} via CAN high / CAN low, no key required.",
        ],
        "generic": [
            "Latest firmware.",
            "Comes with adapter lead.",
            "Fully tested.",
            "Works 2018-2024 models.",
            "Small and easy to hide.",
            "Rechargeable.",
            "Message for other models.",
            "Fast shipping worldwide.",
        ],
    },
    "key_emulator": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"car": ["Kia", "Hyundai", "Toyota", "Lexus", "Nissan", "Mitsubishi", "Genesis", "Range Rover"]},
        "keys": ["emulator", "Game Boy", "gameboy", "emergency start", "keyless", "smart key"],
        "titles": [
            "Smart Key Emulator {car} - keyless go",
            "Game Boy Keyless Device {car}",
            "Emergency Start Device for {car} keyless cars",
            "Gameboy Emulator Unlock + Start 2024 version",
            "Keyless Go Emulator - all {car} models",
            "Key Emulator Kia Hyundai Emergency Start",
        ],
        "bland_titles": ["Retro handheld - unusual", "Electronic gadget - read listing", "Tech device in box"],
        "reveal": [
            "Emulates the smart key, car opens and starts with push button start without the original key.",
            "Gameboy style case, walk up to the {car}, press A to unlock, press start to start the engine.",
            "Emergency start unit: learns the key in seconds then starts the car without the key.",
            "Works as a smart key for {car} keyless vehicles, unlock and start.",
            "Copies the keyless key signal and acts as a spare smart key.",
        ],
        "generic": [
            "Updated firmware.",
            "Battery rechargeable by USB-C.",
            "Looks like a normal game console.",
            "Supports 2015-2023 models.",
            "Comes with user guide.",
            "Locksmith use only.",
            "Tested.",
        ],
    },
    "code_grabber": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"freq": ["433MHz", "315MHz", "868MHz", "433/868MHz"]},
        "keys": ["code grabber", "grabber", "KeeLoq", "rolling code", "scanner"],
        "titles": [
            "Code Grabber {freq} KeeLoq Rolling Code",
            "Universal Code Grabber for car alarms",
            "Rolling Code Grabber {freq} - latest",
            "Car Alarm Scanner / Code Grabber Pro",
            "KeeLoq Grabber + Decoder {freq}",
            "Codegrabber Pandora/StarLine compatible",
        ],
        "bland_titles": ["Remote control device {freq}", "Radio gadget - see listing"],
        "reveal": [
            "Captures the rolling code from the car remote and replays it to open the car later.",
            "Grabs KeeLoq and dynamic codes from alarm key fobs at up to 100m.",
            "Intercepts the signal when the owner locks the car and stores it for later use.",
            "Reads and copies car alarm remotes including rolling code systems.",
            "Alarm scanner that records the key fob signal and opens the car.",
        ],
        "generic": [
            "Stores up to 100 codes.",
            "Built in battery.",
            "Works on most alarm systems.",
            "English menu.",
            "Small pocket size.",
            "Tested and working.",
            "Shipping from EU warehouse.",
        ],
    },
    "signal_jammer": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"freq": ["315/433MHz", "433MHz", "868MHz", "GPS L1/L2", "GSM 3G 4G"]},
        "keys": ["jammer", "jamming", "GPS blocker", "blocker"],
        "titles": [
            "GPS Jammer for Car cigarette lighter plug",
            "Key Fob Jammer {freq} remote blocker",
            "Car Signal Jammer {freq} 6 antenna",
            "GPS GSM Tracker Jammer portable",
            "Anti tracking GPS blocker 12V",
            "433MHz Jammer - stops remotes locking",
        ],
        "bland_titles": ["12V car gadget - privacy", "Handheld device with antennas"],
        "reveal": [
            "Blocks the key fob so the car does not lock when the owner presses the button.",
            "Jams GPS and GSM trackers in the vehicle, tracker cannot report its location.",
            "Jamming range up to 20m on {freq}.",
            "Plug into the cigarette lighter and the GPS tracker loses signal.",
            "Stops remote central locking working within 30 metres.",
        ],
        "generic": [
            "Powerful cooling fan.",
            "Adjustable output.",
            "Works worldwide.",
            "Rechargeable battery.",
            "Comes with car charger.",
            "Discreet black case.",
        ],
    },
    "mechanical_entry": {
        "count": 17,
        "obfuscated": 6,
        "slots": {"blade": ["HU66", "HU100", "HU92", "TOY48", "HU101", "HU162T", "VA2T", "SIP22", "HON66", "TOY43"]},
        "keys": ["Lishi", "lockout", "car opening", "jiggler", "slim jim", "tryout", "pick"],
        "titles": [
            "Lishi {blade} 2 in 1 Pick & Decoder",
            "Original Lishi {blade} 2in1",
            "Car Lockout Kit 22 pcs air wedge long reach",
            "Car Opening Kit professional auto locksmith",
            "Tryout Jiggler Keys set 32 pcs car",
            "Slim Jim car door opener set",
            "Ignition Puller / Slide Hammer for car locks",
            "{blade} Lishi pick decoder - VAG / Ford",
        ],
        "bland_titles": ["Locksmith tools - job lot", "Tool set in pouch"],
        "reveal": [
            "Pick and decode {blade} car locks in minutes, no damage to the lock.",
            "Open any car door without the key: wedge, long reach tool and slim jim included.",
            "Jiggler keys open most older car doors and ignitions.",
            "Pulls the ignition lock barrel out in seconds.",
            "Decoder reads the cuts so you can cut a new key for the car.",
        ],
        "generic": [
            "Genuine, not a copy.",
            "For locksmith use only.",
            "Comes with instructions.",
            "Hardened steel.",
            "Great for vehicle recovery.",
            "Stored in a zip case.",
        ],
    },
}

FOREIGN = {
    "de": [
        (
            "relay_attack",
            "Keyless Verstärker Reichweitenverlängerung Funkschlüssel",
            "Zwei Geräte: eines am Haus, eines am Auto. Öffnet und startet Fahrzeuge mit Keyless-Go.",
        ),
        (
            "key_programmer",
            "Schlüsselprogrammiergerät OBD für VW Audi Skoda",
            "Neue Schlüssel anlernen, alle Schlüssel verloren, PIN auslesen. Deutsche Software.",
        ),
        (
            "signal_jammer",
            "GPS Störsender für Auto 12V",
            "Stört GPS und GSM Ortung im Fahrzeug. Zigarettenanzünder Anschluss.",
        ),
        (
            "mechanical_entry",
            "Autoöffnungswerkzeug Set 18 teilig",
            "Notöffnung von Fahrzeugtüren ohne Schaden. Keil, Stab, Haken.",
        ),
        (
            "none",
            "Faraday Tasche für Autoschlüssel Keyless Schutz",
            "Schützt vor Relais-Angriffen auf Keyless-Go Fahrzeuge. Abschirmende Tasche, 2 Stück.",
        ),
        (
            "none",
            "Lenkradkralle Diebstahlschutz Auto",
            "Robuste Lenkradsperre mit zwei Schlüsseln, passt auf fast alle Lenkräder.",
        ),
    ],
    "fr": [
        (
            "key_programmer",
            "Programmateur de clés auto OBD2 universel",
            "Programmation de clés et télécommandes, toutes clés perdues, lecture code PIN.",
        ),
        (
            "signal_jammer",
            "Brouilleur GPS voiture allume-cigare",
            "Brouille le signal GPS des traceurs dans un rayon de 10 m.",
        ),
        (
            "relay_attack",
            "Répéteur keyless amplificateur de signal clé",
            "Kit deux boîtiers pour voitures sans clé, portée 50 m.",
        ),
        (
            "none",
            "Pochette anti RFID pour clé de voiture",
            "Bloque le signal de votre clé mains libres contre le vol par relais. Lot de 2.",
        ),
        ("none", "Antivol volant voiture universel", "Barre antivol en acier pour volant, installation rapide."),
    ],
    "es": [
        (
            "key_programmer",
            "Programador de llaves de coche OBD",
            "Programa llaves y mandos, todas las llaves perdidas, inmovilizador.",
        ),
        (
            "signal_jammer",
            "Inhibidor de frecuencia GPS para coche",
            "Inhibidor de señal GPS y GSM con toma de mechero.",
        ),
        (
            "mechanical_entry",
            "Kit de apertura de coches profesional",
            "Herramientas de apertura de puertas para cerrajeros, cuña de aire y varilla larga.",
        ),
        (
            "none",
            "Funda bloqueo señal llave coche Faraday",
            "Protege tu coche sin llave contra robos por repetidor de señal.",
        ),
    ],
    "pl": [
        (
            "code_grabber",
            "Kodgraber 433 MHz do alarmów samochodowych",
            "Przechwytuje kody pilotów, także kody zmienne. Nowa wersja.",
        ),
        (
            "key_programmer",
            "Programator kluczy samochodowych OBD",
            "Dorabianie kluczy, utrata wszystkich kluczy, odczyt PIN.",
        ),
        ("mechanical_entry", "Wytrychy samochodowe Lishi HU66", "Otwieranie zamków VAG bez uszkodzeń, dekoder 2w1."),
        ("none", "Blokada kierownicy samochodowa", "Stalowa blokada kierownicy z zamkiem, dwa kluczyki w zestawie."),
    ],
    "ro": [
        (
            "signal_jammer",
            "Bruiaj GPS pentru mașină",
            "Bruiază semnalul GPS și GSM al trackerelor auto, alimentare 12V.",
        ),
        ("key_programmer", "Programator chei auto OBD2", "Programare chei și telecomenzi, toate cheile pierdute."),
        ("relay_attack", "Amplificator semnal cheie keyless", "Set două unități pentru mașini keyless, rază 40 m."),
        (
            "none",
            "Husă Faraday pentru cheie auto",
            "Blochează semnalul cheii keyless și previne furtul prin amplificare.",
        ),
    ],
}

CONFUSABLE = [
    {
        "count": 12,
        "slots": {"n": ["2 Pack", "3 Pack", "1 Pcs", "Set of 2"]},
        "titles": [
            "Faraday Pouch for Car Keys {n} - Keyless Entry Signal Blocker",
            "Car Key Signal Blocker Bag {n} RFID Blocking",
            "Faraday Box for Car Keys - stops relay attacks",
            "Keyless Car Key Protector Pouch Anti Theft {n}",
            "Signal Blocking Key Fob Case Faraday Leather",
        ],
        "descs": [
            "Protects your keyless car from relay attacks by blocking the key fob signal.",
            "Thieves use relay boxes to amplify your key signal from inside your home; this pouch stops them.",
            "Double layer of signal blocking fabric, tested with keyless entry cars.",
            "Simply put your key fob inside and the car will not unlock.",
            "Also blocks RFID on bank cards.",
            "Premium faux leather with magnetic closure.",
            "Recommended by police to prevent keyless repeater theft.",
        ],
    },
    {
        "count": 8,
        "titles": [
            "Steering Wheel Lock Heavy Duty Anti Theft",
            "Disklok Steering Wheel Lock Medium",
            "Stoplock Pro Elite Steering Wheel Lock",
            "Twin Bar Steering Lock High Visibility Yellow",
        ],
        "descs": [
            "Visible deterrent against car theft, including keyless theft and relay attacks.",
            "Fits most steering wheels, adjustable length.",
            "Hardened steel, anti-drill lock.",
            "Thatcham approved.",
            "Comes with 2 keys.",
            "Stops thieves even if they have copied your key.",
        ],
    },
    {
        "count": 7,
        "titles": [
            "OBD Port Lock for Ford Transit",
            "OBD Guard - OBD Port Protector Lock",
            "OBD Lock Box Anti Key Programming",
        ],
        "descs": [
            "Stops thieves plugging key programmers into your OBD port.",
            "Prevents key cloning via the diagnostic port.",
            "Steel box fitted over the OBD socket, needs a special key to open.",
            "Fitting takes 20 minutes.",
            "Compatible with most vans and cars.",
        ],
    },
    {
        "count": 12,
        "slots": {
            "model": [
                "ELM327",
                "Autel AutoLink AL319",
                "Launch CRP123",
                "Foxwell NT301",
                "Topdon AL500",
                "Ancel AD310",
                "Autel MaxiCOM MK808",
            ]
        },
        "titles": [
            "{model} OBD2 Scanner Code Reader",
            "{model} Car Diagnostic Tool Check Engine Light",
            "OBD2 Bluetooth Scanner {model} for iOS Android",
            "{model} Fault Code Reader Live Data",
        ],
        "descs": [
            "Reads and clears engine fault codes, turns off the check engine light.",
            "Live data, freeze frame, O2 sensor test, EVAP test.",
            "Works with all OBD2 cars from 2001 onwards.",
            "Note: this scanner does not support key programming or immobiliser functions.",
            "Easy to use, plug into the OBD port under the dashboard.",
            "Free lifetime updates.",
        ],
    },
    {
        "count": 8,
        "slots": {"speed": ["300Mbps", "1200Mbps", "AC1200", "AX3000"]},
        "titles": [
            "WiFi Extender Booster {speed} Dual Band Signal Repeater",
            "TP-Link RE305 WiFi Range Extender {speed}",
            "WiFi Repeater Wireless Signal Amplifier {speed}",
            "Mesh WiFi Booster Plug In Range Extender",
        ],
        "descs": [
            "Boosts your WiFi signal to dead zones in your home.",
            "Works with any router.",
            "Ethernet port for wired devices.",
            "Set up in minutes with WPS button.",
            "Covers up to 120 square metres.",
        ],
    },
    {
        "count": 5,
        "titles": ["Mobile Phone Signal Booster 4G Vodafone EE O2", "Cell Phone Signal Amplifier for Home"],
        "descs": [
            "Boosts 4G and 5G mobile signal in your home or office.",
            "Outdoor antenna and indoor unit.",
            "Ofcom compliant.",
            "Covers up to 500 sq m.",
        ],
    },
    {
        "count": 5,
        "titles": ["TV Aerial Signal Amplifier 4 Way Booster", "Masthead Amplifier for Freeview Aerial"],
        "descs": ["Amplifies your TV aerial signal for Freeview.", "4 outputs, low noise.", "Includes power supply."],
    },
    {
        "count": 6,
        "titles": [
            "Fender Frontman 10G Guitar Amplifier",
            "Marshall MG15 Guitar Amp",
            "Bass Amp 30W Practice Amplifier",
        ],
        "descs": [
            "Great practice amp, clean and overdrive channels.",
            "Headphone output.",
            "Used, fully working.",
            "Collection only.",
            "Some scuffs on the corners.",
        ],
    },
    {
        "count": 6,
        "titles": [
            "5V 4 Channel Relay Module for Arduino",
            "12V Relay Board 8 Channel Optocoupler",
            "Solid State Relay SSR-40DA",
        ],
        "descs": [
            "Compatible with Arduino, Raspberry Pi and ESP32.",
            "LED indicator for each relay.",
            "Each relay can switch up to 10A at 250V AC.",
            "Pack of 2.",
        ],
    },
    {
        "count": 6,
        "slots": {"car": CARS},
        "titles": [
            "Starter Motor Relay for {car}",
            "12V 40A 4 Pin Car Relay 5 Pack",
            "Fuel Pump Relay OEM Part for {car}",
        ],
        "descs": [
            "Direct replacement, fits in the fuse box.",
            "OEM part number on the photos.",
            "Fixes no crank / no start caused by a failed relay.",
            "Check your part number before ordering.",
        ],
    },
    {
        "count": 8,
        "slots": {"car": CARS},
        "titles": [
            "Replacement Key Shell 3 Button for {car}",
            "Key Fob Case Cover {car} Silicone",
            "Remote Key Housing + Uncut Blade for {car}",
        ],
        "descs": [
            "Shell only, no electronics or chip; transfer your own circuit board.",
            "You will need to get the blade cut by a locksmith.",
            "Fixes worn buttons and broken cases.",
            "Does not include transponder chip.",
            "Easy to fit.",
        ],
    },
    {
        "count": 6,
        "slots": {"car": CARS},
        "titles": ["Genuine {car} Remote Key Fob 433MHz", "Replacement Smart Key for {car} keyless entry"],
        "descs": [
            "Genuine OEM remote, needs programming to your car by a dealer or auto locksmith.",
            "Keyless entry and push button start smart key.",
            "Blade needs cutting.",
            "Check the frequency and part number match your original.",
        ],
    },
    {
        "count": 5,
        "titles": ["CR2032 Battery 10 Pack for Car Key Fobs", "Key Fob Battery CR2025 Duracell 4 Pack"],
        "descs": ["3V lithium coin cell for car key fobs and remotes.", "Long shelf life.", "Child safe packaging."],
    },
    {
        "count": 8,
        "titles": [
            "Universal Garage Door Remote Control Duplicator 433MHz",
            "Gate Remote Cloning Copy Remote Face to Face",
            "Garage Opener Remote Copier 4 Channel",
        ],
        "descs": [
            "Copies your existing garage door or gate remote face to face.",
            "Works with fixed code remotes at 433.92MHz, not rolling code.",
            "Hold both remotes together and press the buttons to learn.",
            "CR2032 battery included.",
        ],
    },
    {
        "count": 5,
        "titles": ["4K Dash Cam Front and Rear", "Nextbase 322GW Dash Cam"],
        "descs": [
            "Records in 4K with night vision.",
            "Parking mode detects bumps and motion.",
            "GPS speed logging.",
            "Footage useful if your car is stolen or broken into.",
        ],
    },
    {
        "count": 6,
        "titles": ["GPS Tracker for Car Hidden Magnetic", "Vehicle Tracker 4G Real Time Tracking"],
        "descs": [
            "Track your car in real time with the app.",
            "Alerts if the car moves when parked.",
            "Helps recover your car if stolen.",
            "Needs a nano SIM.",
            "Battery lasts 30 days.",
        ],
    },
    {
        "count": 6,
        "titles": ["Jump Starter 2000A Car Battery Booster Pack", "NOCO Boost GB40 Jump Starter"],
        "descs": [
            "Emergency start for flat batteries, up to 6L petrol engines.",
            "Doubles as a power bank.",
            "LED torch built in.",
            "Safe to use, reverse polarity protection.",
        ],
    },
    {
        "count": 6,
        "titles": [
            "Nintendo Game Boy Original DMG-01 Console",
            "Game Boy Color Atomic Purple + Pokemon",
            "Gameboy Advance SP boxed",
        ],
        "descs": [
            "Fully working, screen has a small scratch.",
            "Comes with Tetris cartridge.",
            "Batteries not included.",
            "Retro handheld console from 1989.",
        ],
    },
    {
        "count": 5,
        "titles": ["JBL Charge 5 Portable Bluetooth Speaker", "JBL Flip 6 Speaker Black"],
        "descs": [
            "Waterproof portable speaker, 20 hours playtime.",
            "Built in power bank to charge your phone.",
            "Great sound, used a few times.",
        ],
    },
    {
        "count": 4,
        "titles": ["Ladies Tango Shoes Latin Dance Heels", "Argentine Tango Dance Shoes Suede Sole"],
        "descs": ["Size UK 5, heel height 7cm.", "Suede sole for smooth turns.", "Worn twice."],
    },
    {
        "count": 4,
        "titles": ["Slide Hammer Dent Puller Kit 17 pcs", "Bearing Puller Slide Hammer Set"],
        "descs": [
            "For bodywork and paintless dent repair.",
            "Pulls bearings, hubs and seals.",
            "Heavy duty carry case.",
        ],
    },
    {
        "count": 4,
        "titles": ["Lock Pick Practice Set with Transparent Padlock", "Beginner Lock Picking Kit + Clear Padlock"],
        "descs": [
            "Learn lock picking as a hobby with a see-through practice padlock.",
            "Locksport training set.",
            "Only pick locks you own.",
        ],
    },
    {
        "count": 3,
        "titles": ["Slim Jim Beef Snack Sticks 24 Pack", "Slim Jim Original Smoked Meat Snack"],
        "descs": ["Protein snack, original flavour.", "Best before end of next year.", "Multipack."],
    },
    {
        "count": 3,
        "titles": ["Auto Locksmith Service - Car Keys Made", "Mobile Auto Locksmith - Lost Car Keys"],
        "descs": [
            "We come to you: lost keys, spare keys, key programming for all makes.",
            "All keys lost? Call us, no call out charge.",
            "DBS checked, fully insured engineers.",
        ],
    },
    {
        "count": 4,
        "titles": ["CANbus LED Headlight Bulbs H7 Error Free", "H4 CANbus LED Kit with Decoder"],
        "descs": [
            "Error free CANbus LED bulbs, no warning lights on the dashboard.",
            "Plug and play into the standard headlight connector.",
            "6000K white, 2 bulbs.",
        ],
    },
    {
        "count": 3,
        "titles": ["CH341A EEPROM Programmer USB BIOS", "Mini Pro TL866 Universal Programmer"],
        "descs": ["Read and write 24/25 series EEPROM and BIOS flash chips.", "Includes SOIC8 clip.", "USB powered."],
    },
    {
        "count": 3,
        "titles": ["Mercedes Seat Occupancy Sensor Emulator", "Airbag Seat Mat Bypass Emulator BMW"],
        "descs": [
            "Fixes the airbag light when the seat occupancy mat fails.",
            "Plug and play emulator.",
            "Ideal when fitting aftermarket seats.",
        ],
    },
    {
        "count": 3,
        "titles": ["Car Door Ding Protector Magnetic Strip", "Ice Scraper with Brass Blade"],
        "descs": ["Protects your doors in car parks.", "Clears frost fast.", "Fits in the glovebox."],
    },
    {
        "count": 2,
        "titles": ["Roller Derby Jammer Helmet Cover Star", "Roller Derby Jammer Panty"],
        "descs": ["Jammer helmet cover with star, stretchy fit.", "Official size for bouts."],
    },
    {
        "count": 3,
        "titles": ["Ghost 2 Immobiliser Installation", "Autowatch Ghost II CAN Bus Immobiliser"],
        "descs": [
            "Stops key cloning and relay attacks with a PIN code sequence.",
            "Thatcham approved, installed by our mobile engineers.",
            "Invisible CAN bus immobiliser.",
        ],
    },
]

PLAIN = [
    {
        "count": 4,
        "titles": ["Car Floor Mats Universal Rubber", "Boot Liner for VW Golf"],
        "descs": ["Heavy duty rubber.", "Easy to clean.", "Cut to fit."],
    },
    {
        "count": 4,
        "titles": ["iPhone 14 Case Clear", "USB C Car Charger 2 Port"],
        "descs": ["Fast charging.", "Slim fit.", "Two pack."],
    },
    {
        "count": 4,
        "titles": ["Cordless Drill 18V with 2 batteries", "Socket Set 94 pcs"],
        "descs": ["Includes carry case.", "Lifetime warranty.", "Used once."],
    },
    {
        "count": 4,
        "titles": ["Wireless Doorbell Camera", "Smart Plug WiFi 4 Pack"],
        "descs": ["Works with Alexa.", "Easy set up.", "Motion alerts to your phone."],
    },
]

AMBIGUOUS = [
    (
        "ambiguous",
        "Flipper Zero multi-tool for pentesters",
        "Sub-GHz radio, RFID, NFC, infrared. Great for hardware hacking and learning.",
    ),
    (
        "ambiguous",
        "HackRF One SDR 1MHz-6GHz with PortaPack",
        "Software defined radio transmit and receive. For research and education.",
    ),
    (
        "ambiguous",
        "Key Cutting Machine 368A Duplicating",
        "Cuts flat and cylinder keys for house and car. Locksmith shop equipment.",
    ),
    (
        "ambiguous",
        "Immo Off Emulator for ECU swap",
        "Lets a replacement ECU run without immobiliser matching. For workshops.",
    ),
    (
        "ambiguous",
        "Auto Locksmith Tool Bundle - retiring",
        "Selling up my kit: various decoders, tension tools, cases. Offers.",
    ),
    (
        "ambiguous",
        "RFID Copier 125kHz Handheld Duplicator",
        "Copies door entry fobs and cards (EM4100, T5577). Not for car keys.",
    ),
    (
        "ambiguous",
        "Air Wedge Pump Bag 3 Pack",
        "Inflatable wedges for fitting doors and windows, also used by locksmiths.",
    ),
    ("ambiguous", "Transponder Chip ID48 x10 blank", "Blank glass transponder chips for car keys."),
    ("ambiguous", "433MHz RF Transmitter Receiver Module Kit", "For Arduino remote control projects, 5 pairs."),
    (
        "ambiguous",
        "OBD2 Diagnostic Tablet with IMMO function",
        "Full system diagnosis and some immobiliser service functions; dealer level.",
    ),
]

HANDWRITTEN = [
    (
        "key_programmer",
        "Xhorse VVDI Key Tool Plus Pad - for locksmith use only",
        "Professional key programmer for licensed auto locksmiths only. Proof of trade required. "
        "All keys lost, remote generation.",
    ),
    (
        "relay_attack",
        "Garden gadget",
        "Long range keyless entry repeater, two units, tested on Range Rover and Mercedes.",
    ),
    (
        "key_emulator",
        "handheld game",
        "Not a toy: smart key emulator for Kia and Hyundai, starts the car without the key.",
    ),
    ("signal_jammer", "Privacy device 12v", "Car GPS jammer with 4 antennas, stops all trackers."),
    ("code_grabber", "Radio tool", "Grabs car alarm rolling codes, KeeLoq supported, opens the car later."),
    ("mechanical_entry", "Tools", "Complete car lockout kit with air wedge and long reach tool, opens any car door."),
    (
        "can_injection",
        "Speaker",
        "Modified JBL: CAN injector inside for Toyota and Lexus, connect to the headlight plug.",
    ),
    ("none", "Anti Relay Attack Key Pouch", "Stop keyless repeater and relay box theft. Faraday lined."),
    (
        "none",
        "Car Security Advice Booklet",
        "A paperback guide to keyless theft, relay attacks and key programmers and how to protect your car.",
    ),
    (
        "none",
        "Thatcham Cat S5 Tracker Fitted",
        "Vehicle tracker installation with driver ID tags, stops key cloning thefts.",
    ),
    ("none", "Bluetooth OBD2 Code Reader", "Diagnostic only: reads fault codes, cannot program keys."),
]
