"""Believable, made-up people: the same ones for the same seed, in the same order."""

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES = {
    "en": [
        "Emma", "Oliver", "Amelia", "Jack", "Sophie", "Harry", "Grace", "George", "Chloe",
        "Thomas", "Lucy", "James", "Hannah", "Daniel", "Megan", "Samuel", "Olivia", "Noah",
        "Isla", "Ethan",
    ],
    "nl": [
        "Lotte", "Daan", "Sanne", "Lars", "Femke", "Bram", "Eva", "Thijs", "Lieke", "Jens",
        "Noor", "Wout", "Fien", "Arne", "Ruben", "Marie", "Jasper", "Elien", "Pieter", "Anouk",
    ],
    "fr": [
        "Camille", "Louis", "Chloé", "Hugo", "Manon", "Lucas", "Léa", "Nathan", "Julie",
        "Arthur", "Sarah", "Théo", "Inès", "Maxime", "Élise", "Antoine", "Zoé", "Mathis",
        "Margaux", "Romain",
    ],
    "de": [
        "Lena", "Felix", "Anna", "Jonas", "Mia", "Paul", "Laura", "Leon", "Sophie", "Lukas",
        "Hannah", "Finn", "Julia", "Tim", "Clara", "Niklas", "Marie", "Jan", "Lea", "Moritz",
    ],
}  # fmt: skip

LAST_NAMES = {
    "en": [
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Wright", "Walker", "Robinson", "Thompson", "Evans", "Hughes", "Clarke", "Turner",
        "Hall", "Green", "Baker",
    ],
    "nl": [
        "Peeters", "Janssens", "Maes", "Jacobs", "Willems", "Claes", "Goossens", "Wouters",
        "De Smet", "Vermeulen", "Van den Broeck", "De Vries", "Bakker", "Visser", "Mertens",
        "Hermans", "Van Damme", "Desmet", "Verhoeven", "Smets",
    ],
    "fr": [
        "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leroy", "Moreau",
        "Lefèbvre", "Fontaine", "Renard", "Girard", "Mercier", "Rousseau", "Faure", "Blanc",
        "Bernard", "Lemaire", "Durand", "Chevalier",
    ],
    "de": [
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schröder",
        "Zimmermann", "Braun", "Krüger", "Hartmann",
    ],
}  # fmt: skip

# Reserved names (RFC 2606): the addresses look real but can never reach anyone.
PERSONAL_DOMAINS = ["example.com", "example.org", "example.net"]
COMPANIES = [
    "Brightdesk", "Northwind", "Bluepeak", "Lumen Labs", "Fjord Analytics", "Oakridge",
    "Harbour & Co", "Vantage Retail", "Kitewire", "Greenleaf Studio", "Solvay Street",
    "Ironbark", "Maple Logistics", "Quill Media",
]  # fmt: skip

LOCALES = ["en", "nl", "fr", "de"]
LOCALE_WEIGHTS = [40, 30, 20, 10]

PHONE_FORMATS = {
    "en": "+44 7700 9{:05d}",
    "nl": "+32 470 {:06d}",
    "fr": "+33 6 12 {:06d}",
    "de": "+49 151 2{:06d}",
}


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    locale: str
    phone: str
    company: str


def ascii_slug(text: str) -> str:
    """``"Van den Broeck"`` -> ``"vandenbroeck"``, ``"Lefèbvre"`` -> ``"lefebvre"``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def make_people(count: int, seed: int) -> list[Person]:
    """``count`` people; the first N are the same whatever ``count`` is."""
    people: list[Person] = []
    used: set[str] = set()
    for index in range(count):
        rng = random.Random(f"{seed}-{index}")
        locale = rng.choices(LOCALES, LOCALE_WEIGHTS)[0]
        first = rng.choice(FIRST_NAMES[locale])
        last = rng.choice(LAST_NAMES[locale])
        company = rng.choice(COMPANIES) if rng.random() < 0.6 else ""
        domain = f"{ascii_slug(company)}.example" if company else rng.choice(PERSONAL_DOMAINS)
        local = rng.choice(
            [
                f"{ascii_slug(first)}.{ascii_slug(last)}",
                f"{ascii_slug(first)[0]}{ascii_slug(last)}",
                f"{ascii_slug(first)}{ascii_slug(last)[0]}",
            ]
        )
        email = f"{local}@{domain}"
        suffix = 2
        while email in used:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        used.add(email)
        phone = PHONE_FORMATS[locale].format(rng.randrange(100_000)) if rng.random() < 0.45 else ""
        people.append(Person(first, last, email, locale, phone, company))
    return people
