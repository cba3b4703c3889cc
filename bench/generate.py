"""Fill the database with realistic contacts for benchmarks.

This writes benchmark fixture data straight into the tables, bypassing the service layer,
the consent log and signals: it is not a user path and must never be used to change real
contacts. Rows are built as plain strings and tuples (no model instances), streamed with
``COPY`` on PostgreSQL and inserted with ``executemany`` in large batches elsewhere.

Every generated address ends in ``.example`` (a top-level domain reserved by RFC 2606),
so generated contacts can be told from real ones, wiped again, and never receive mail.

Use it as a module, once Django is set up::

    from bench.generate import generate
    generate(100_000, seed=1, wipe_first=True)

or from the command line (``python bench/generate.py --help``)::

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/wp_bench \\
        .venv/bin/python bench/generate.py 1000000 --wipe
"""

import argparse
import base64
import datetime as dt
import json
import math
import os
import random
import sys
import time
import unicodedata
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GENERATED_DOMAIN_SUFFIX = ".example"

# Preferences by popularity: (name, share of contacts holding it, public).
# Drawn independently: about 1.07 preferences per contact, about 1.5 per contact holding any.
PREFERENCES = [
    ("Newsletter", 0.45, True),
    ("Products", 0.30, True),
    ("Trainings", 0.12, True),
    ("Events", 0.08, True),
    ("Webinars", 0.05, True),
    ("Partner offers", 0.03, True),
    ("Job openings", 0.015, True),
    ("Beta programme", 0.01, True),
    ("Research panel", 0.008, False),
    ("Local meetups", 0.006, True),
]

# Categories: (name, share opted out, share explicitly opted in).
CATEGORIES = [
    ("Promotions", 0.10, 0.015),
    ("Surveys", 0.07, 0.008),
    ("Partner news", 0.06, 0.005),
    ("Product updates", 0.04, 0.02),
    ("Event invitations", 0.03, 0.01),
]

STATUSES = [("confirmed", 82), ("pending", 9), ("unsubscribed", 7.5), ("blocked", 1.5)]
SOURCES = [("form", 70), ("import", 18), ("admin", 7), ("segment", 3), ("api", 2)]
CHOICE_SOURCES = [("unsubscribe", 40), ("form", 40), ("admin", 10), ("import", 10)]

# Share of contacts with at least one channel settings row, and how those rows look.
CHANNEL_SETTINGS_SHARE = 0.12
CHANNEL_DISABLED_SHARE = 0.30
CHANNEL_FREQUENCY_SHARE = 0.25
CHANNEL_PAUSED_SHARE = 0.05
CHANNEL_PREFERRED_SHARE = 0.40
FREQUENCY_PERIODS = [("day", 1), ("week", 5), ("month", 4)]

DOMAINS = [
    ("mail.example", 30),
    ("inbox.example", 18),
    ("post.example", 12),
    ("webmail.example", 8),
    ("online.example", 6),
    ("acme-corp.example", 4),
    ("university.example", 3),
    ("telecom.example", 5),
    ("provider.example", 6),
    ("home.example", 8),
]

# locale: (share, phone prefix, first names, last names)
PEOPLE = {
    "en": (
        34,
        "+44 7",
        "James Olivia Oliver Amelia Harry Isla Jack Ava George Emily Noah Sophie Charlie Grace "
        "Jacob Lily Thomas Freya Oscar Chloe William Ella Henry Mia Leo Evie Alfie Ruby Joshua "
        "Daisy Daniel Sarah Michael Emma David Laura John Anna Paul Rachel Mark Hannah Peter "
        "Rebecca Andrew Katie Richard Lucy Samuel Megan",
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
        "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips "
        "Mason Mitchell Rose Davis Rodriguez Cox Alexander Morgan Hughes Edwards Hill Moore "
        "Clark Harrison Scott Young Morris Baker Cooper Ward Turner Collins Bell Murphy O'Brien "
        "Kelly Campbell Stewart Anderson Price Bennett Gray Fisher Palmer Hunt Shaw Holmes",
    ),
    "nl": (
        20,
        "+32 4",
        "Lucas Emma Liam Olivia Noah Louise Arthur Mila Jules Elena Finn Lotte Lars Noor Jonas "
        "Julie Daan Fien Sem Nina Milan Lena Bram Sara Wout Hanne Thijs Ellen Pieter Ilse Jan "
        "Marieke Koen Sofie Tom Anouk Bart Els Joris Lieve Stijn Femke Ruben Inge Wim An Dirk "
        "Griet Sander Eline",
        "Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters De Smet Dubois "
        "Hermans Aerts Pauwels Vermeulen Van Damme De Vries Jansen De Jong Bakker Visser Smit "
        "Meijer De Boer Mulder De Groot Bos Vos Peters Hendriks Van Dijk Dekker Brouwer Dijkstra "
        "Verhoeven Van den Berg Van Leeuwen Kuipers Timmermans Claessens Segers Lemmens Michiels "
        "Cools Verstraete Desmet Coppens Van Acker",
    ),
    "fr": (
        15,
        "+33 6",
        "Gabriel Louise Raphaël Ambre Léo Jade Louis Rose Lucas Anna Adam Alice Arthur Romy "
        "Hugo Léna Jules Chloé Maël Inès Nathan Camille Théo Manon Paul Léa Victor Juliette "
        "Antoine Margaux Baptiste Zoé Clément Céline Julien Sophie Nicolas Isabelle Pierre "
        "Nathalie François Sandrine Olivier Valérie Mathieu Aurélie",
        "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
        "Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
        "Rousseau Vincent Muller Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier "
        "Chevalier François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry "
        "Roussel Mathieu Gautier Masson",
    ),
    "de": (
        12,
        "+49 15",
        "Ben Emilia Paul Hannah Leon Mia Finn Emma Elias Sofia Jonas Lina Luis Mila Noah Ella "
        "Felix Clara Lukas Lea Maximilian Marie Jan Anna Tim Lena Moritz Laura Tobias Katharina "
        "Stefan Sabine Andreas Petra Michael Claudia Thomas Julia Matthias Jana Florian Sarah "
        "Jürgen Ursula Klaus Monika",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
        "Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler "
        "Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung "
        "Hahn Vogel",
    ),
    "es": (
        8,
        "+34 6",
        "Hugo Lucía Martín Sofía Pablo María Mateo Martina Leo Paula Daniel Julia Alejandro "
        "Valeria Manuel Emma Álvaro Daniela Javier Carmen Carlos Elena Sergio Laura Jorge Ana "
        "David Marta Raúl Cristina Diego Isabel",
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez "
        "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres "
        "Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega "
        "Delgado Castro Ortiz Rubio Marín Sanz Núñez",
    ),
    "it": (
        5,
        "+39 3",
        "Leonardo Sofia Francesco Aurora Alessandro Giulia Lorenzo Ginevra Mattia Beatrice "
        "Andrea Alice Gabriele Ludovica Riccardo Emma Tommaso Vittoria Marco Chiara Luca "
        "Francesca Giuseppe Sara Paolo Elena",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti De Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro "
        "Mariani Rinaldi Caruso Ferrara Galli Martini Leone",
    ),
    "": (
        6,
        "+1 ",
        "Alex Sam Chris Jordan Taylor Morgan Casey Robin Jamie Kim Lee Max Ana Ali Maria Yusuf "
        "Fatima Mohammed Wei Mei Hiroshi Yuki Priya Arjun Olga Ivan Agnieszka Piotr",
        "Lee Chen Wang Kim Nguyen Singh Kumar Ali Ahmed Hassan Tanaka Sato Suzuki Ivanov Novak "
        "Kowalski Nowak Silva Santos Costa Oliveira Yilmaz Kaya Cohen Levi Andersen Hansen "
        "Nielsen Johansson Larsen",
    ),
}

# Shapes of the part before the @: (template, weight). {f}/{l} are the names, {i} the initial.
EMAIL_PATTERNS = [
    ("{f}.{l}", 40),
    ("{f}{l}", 14),
    ("{i}{l}", 14),
    ("{f}_{l}", 5),
    ("{l}.{f}", 5),
    ("{f}", 4),
    ("{i}.{l}", 8),
    ("{f}.{l}.{y}", 10),
]

SECONDS_PER_DAY = 86_400
HISTORY_DAYS = 3 * 365
CHUNK = 25_000
SQLITE_BATCH = 50_000


@dataclass
class Report:
    """What ``generate`` wrote, and how long each part took (seconds)."""

    contacts: int = 0
    preference_holdings: int = 0
    category_choices: int = 0
    channel_settings: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.timings.get("total", 0.0)

    def lines(self) -> list[str]:
        rows = [
            ("contacts", self.contacts),
            ("preference holdings", self.preference_holdings),
            ("category choices", self.category_choices),
            ("channel settings", self.channel_settings),
        ]
        out = [f"{label:>20}: {count:>10,}" for label, count in rows]
        out += [f"{name:>20}: {seconds:>9.2f}s" for name, seconds in self.timings.items()]
        return out


def _ascii(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in decomposed.lower() if c.isalnum())


def _weighted(pairs):
    values = [value for value, _ in pairs]
    cumulative, total = [], 0.0
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return values, cumulative


def _geometric_positions(rng: random.Random, p: float, lo: int, hi: int):
    """Positions in ``[lo, hi)`` each chosen with probability ``p``, by geometric skips."""
    if p <= 0:
        return
    if p >= 1:
        yield from range(lo, hi)
        return
    log_q = math.log(1.0 - p)
    rand, log = rng.random, math.log
    position = lo - 1
    while True:
        position += int(log(1.0 - rand()) / log_q) + 1
        if position >= hi:
            return
        yield position


class _Clock:
    """Timestamps as strings, from a table of days and a table of seconds of the day."""

    def __init__(self, today: dt.date, *, suffix: str):
        self.end = int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp())
        self.start = self.end - HISTORY_DAYS * SECONDS_PER_DAY
        self.first_day = self.start // SECONDS_PER_DAY
        self.days = [
            (dt.date(1970, 1, 1) + dt.timedelta(days=self.first_day + d)).isoformat() + " "
            for d in range(HISTORY_DAYS + 400)
        ]
        self.times = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}"
            for s in range(SECONDS_PER_DAY)
        ]
        self.today = today

    def format(self, epoch: int) -> str:
        day, second = divmod(epoch, SECONDS_PER_DAY)
        return self.days[day - self.first_day] + self.times[second]

    def date(self, offset_days: int) -> str:
        return (self.today + dt.timedelta(days=offset_days)).isoformat()


@dataclass
class _Target:
    """How one backend spells NULL, booleans and timestamps in the rows it is given."""

    null: object
    true: object
    false: object
    timestamp_suffix: str


class _Generator:
    """Rows for each table, in chunks, from independent seeded random streams."""

    def __init__(self, n_contacts: int, seed: int, target: _Target, id_starts: dict, seen: set):
        self.n = n_contacts
        self.seed = seed
        self.t = target
        self.ids = id_starts
        self.seen = seen
        self.clock = _Clock(dt.datetime.now(dt.UTC).date(), suffix=target.timestamp_suffix)
        self.span = self.clock.end - self.clock.start
        # Per contact, from the first pass: 1 if it has a phone number, 2 if unsubscribed/blocked.
        self.flags = bytearray(n_contacts)

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"wagtail-preferences-bench:{self.seed}:{stream}")

    def created_epoch(self, index: int) -> int:
        """Contacts arrive over the last three years, in id order."""
        return self.clock.start + index * self.span // self.n

    # Contacts ------------------------------------------------------------------------------

    def contacts(self):
        rng = self.rng("contacts")
        t, clock, seen, flags = self.t, self.clock, self.seen, self.flags
        null = t.null
        statuses, status_cw = _weighted(STATUSES)
        domains, domain_cw = _weighted(DOMAINS)
        patterns, pattern_cw = _weighted(EMAIL_PATTERNS)
        locales = list(PEOPLE)
        locale_cw = _weighted([(loc, PEOPLE[loc][0]) for loc in locales])[1]
        people = {}
        for locale, (_, phone_prefix, firsts, lasts) in PEOPLE.items():
            firsts = [(name, _ascii(name)) for name in firsts.split()]
            lasts = [(name, _ascii(name)) for name in _split_surnames(lasts)]
            people[locale] = (phone_prefix, firsts, lasts)
        company_data = [
            json.dumps({"company": name})
            for name in ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries")
        ]
        first_id = self.ids["contact"]
        step = max(self.span // self.n, 1)
        randrange, random_, choice = rng.randrange, rng.random, rng.choice
        for lo in range(0, self.n, CHUNK):
            count = min(CHUNK, self.n - lo)
            statuses_k = rng.choices(statuses, cum_weights=status_cw, k=count)
            domains_k = rng.choices(domains, cum_weights=domain_cw, k=count)
            patterns_k = rng.choices(patterns, cum_weights=pattern_cw, k=count)
            locales_k = rng.choices(locales, cum_weights=locale_cw, k=count)
            secrets = base64.urlsafe_b64encode(rng.randbytes(33 * count)).decode()
            rows = []
            append = rows.append
            for j in range(count):
                index = lo + j
                locale = locales_k[j]
                phone_prefix, firsts, lasts = people[locale]
                first, first_ascii = choice(firsts)
                last, last_ascii = choice(lasts)
                local = patterns_k[j].format(
                    f=first_ascii, l=last_ascii, i=first_ascii[0], y=randrange(60, 100)
                )
                email = f"{local}@{domains_k[j]}"
                attempt = 0
                while email in seen:
                    attempt += 1
                    if attempt < 6:
                        number = randrange(1, 10 ** (1 + attempt))
                        email = f"{local}{number}@{domains_k[j]}"
                    else:
                        email = f"{local}.{first_id + index}.{self.seed}@{domains_k[j]}"
                        if attempt > 6:
                            raise RuntimeError(f"Could not make a unique address from {local}.")
                seen.add(email)
                if random_() < 0.35:
                    phone = f"{phone_prefix}{randrange(10_000_000, 99_999_999)}"
                    flag = 1
                else:
                    phone = ""
                    flag = 0
                status = statuses_k[j]
                if status == "unsubscribed" or status == "blocked":
                    flag |= 2
                flags[index] = flag
                created = self.created_epoch(index) + randrange(step)
                updated = created + int((clock.end - created) * random_() ** 3)
                if random_() < 0.08:
                    first_name, last_name = "", ""
                else:
                    first_name, last_name = first, last
                data = choice(company_data) if random_() < 0.1 else "{}"
                append(
                    (
                        first_id + index,
                        email,
                        first_name,
                        last_name,
                        phone,
                        locale,
                        status,
                        null,
                        data,
                        secrets[j * 44 : j * 44 + 43],
                        clock.format(created),
                        clock.format(updated),
                    )
                )
            yield rows

    # Rows that hang off contacts -----------------------------------------------------------

    def _later(self, rng: random.Random, index: int) -> str:
        """A moment after contact ``index`` arrived, skewed towards soon after."""
        created = self.created_epoch(index + 1)
        return self.clock.format(created + int((self.clock.end - created) * rng.random() ** 4))

    def preference_holdings(self, preference_ids: list[int]):
        rng = self.rng("preferences")
        sources, source_cw = _weighted(SOURCES)
        first_contact, next_id = self.ids["contact"], self.ids["contactpreference"]
        shares = [share for _, share, _ in PREFERENCES]
        for lo in range(0, self.n, CHUNK):
            hi = min(lo + CHUNK, self.n)
            pairs = [
                (index, preference_id)
                for preference_id, share in zip(preference_ids, shares, strict=True)
                for index in _geometric_positions(rng, share, lo, hi)
            ]
            pairs.sort()
            sources_k = rng.choices(sources, cum_weights=source_cw, k=len(pairs))
            rows = []
            for (index, preference_id), source in zip(pairs, sources_k, strict=True):
                rows.append(
                    (
                        next_id,
                        first_contact + index,
                        preference_id,
                        self._later(rng, index),
                        source,
                    )
                )
                next_id += 1
            yield rows

    def category_choices(self, category_ids: list[int]):
        rng = self.rng("categories")
        t = self.t
        sources, source_cw = _weighted(CHOICE_SOURCES)
        first_contact, next_id = self.ids["contact"], self.ids["categorychoice"]
        for lo in range(0, self.n, CHUNK):
            hi = min(lo + CHUNK, self.n)
            triples = []
            for category_id, (_, out_share, in_share) in zip(category_ids, CATEGORIES, strict=True):
                in_given_choice = in_share / (out_share + in_share)
                for index in _geometric_positions(rng, out_share + in_share, lo, hi):
                    subscribed = t.true if rng.random() < in_given_choice else t.false
                    triples.append((index, category_id, subscribed))
            triples.sort(key=lambda triple: triple[:2])
            sources_k = rng.choices(sources, cum_weights=source_cw, k=len(triples))
            rows = []
            for (index, category_id, subscribed), source in zip(triples, sources_k, strict=True):
                rows.append(
                    (
                        next_id,
                        first_contact + index,
                        category_id,
                        subscribed,
                        self._later(rng, index),
                        source,
                    )
                )
                next_id += 1
            yield rows

    def channel_settings(self):
        rng = self.rng("channels")
        t, flags = self.t, self.flags
        null, true, false = t.null, t.true, t.false
        periods, period_cw = _weighted(FREQUENCY_PERIODS)
        first_contact, next_id = self.ids["contact"], self.ids["contactchannel"]
        random_, randrange = rng.random, rng.randrange
        for lo in range(0, self.n, CHUNK):
            hi = min(lo + CHUNK, self.n)
            rows = []
            for index in _geometric_positions(rng, CHANNEL_SETTINGS_SHARE, lo, hi):
                has_phone = flags[index] & 1
                opted_out = flags[index] & 2
                channels = []
                if not has_phone or random_() < 0.8:
                    channels.append("email")
                if has_phone and (not channels or random_() < 0.6):
                    channels.append("sms")
                preferred = randrange(len(channels)) if random_() < CHANNEL_PREFERRED_SHARE else -1
                for position, channel in enumerate(channels):
                    disabled = random_() < (0.8 if opted_out else CHANNEL_DISABLED_SHARE)
                    if not disabled and random_() < CHANNEL_FREQUENCY_SHARE:
                        count = randrange(1, 8)
                        period = rng.choices(periods, cum_weights=period_cw)[0]
                    else:
                        count, period = null, ""
                    if not disabled and random_() < CHANNEL_PAUSED_SHARE:
                        start = randrange(-60, 30)
                        pause_from = self.clock.date(start)
                        pause_to = (
                            null if random_() < 0.1 else self.clock.date(start + randrange(1, 90))
                        )
                    else:
                        pause_from = pause_to = null
                    rows.append(
                        (
                            next_id,
                            first_contact + index,
                            channel,
                            false if disabled else true,
                            count,
                            period,
                            pause_from,
                            pause_to,
                            true if position == preferred else false,
                            self._later(rng, index),
                        )
                    )
                    next_id += 1
            yield rows


def _split_surnames(text: str) -> list[str]:
    """Split a list of surnames, keeping particles ("De Smet", "Van den Berg") attached."""
    particles = {"De", "Van", "den", "der", "Le", "La", "Di", "Da"}
    names, pending = [], []
    for word in text.split():
        pending.append(word)
        if word not in particles:
            names.append(" ".join(pending))
            pending = []
    return names


# Writing -----------------------------------------------------------------------------------


def _models():
    from wagtail_preferences.models import (
        CategoryChoice,
        Contact,
        ContactChannel,
        ContactPreference,
    )

    return {
        "contact": (
            Contact,
            [
                "id",
                "email",
                "first_name",
                "last_name",
                "phone",
                "locale",
                "status",
                "user",
                "data",
                "secret",
                "created_at",
                "updated_at",
            ],
        ),
        "contactpreference": (
            ContactPreference,
            ["id", "contact", "preference", "created_at", "source"],
        ),
        "categorychoice": (
            CategoryChoice,
            ["id", "contact", "category", "subscribed", "changed_at", "source"],
        ),
        "contactchannel": (
            ContactChannel,
            [
                "id",
                "contact",
                "channel",
                "enabled",
                "frequency_count",
                "frequency_period",
                "pause_from",
                "pause_to",
                "is_preferred",
                "updated_at",
            ],
        ),
    }


def _table(connection, model, field_names):
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in field_names)
    return qn(model._meta.db_table), columns


def _copy_writer(connection):
    """Stream rows with ``COPY ... FROM STDIN`` on the psycopg 3 connection.

    Rows are joined as text without escaping: generated values never hold tabs, newlines or
    backslashes.
    """
    raw = connection.connection

    def write(model, field_names, chunks) -> int:
        table, columns = _table(connection, model, field_names)
        line = ("\t".join(["{}"] * len(field_names)) + "\n").format
        written = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for rows in chunks:
                copy.write("".join([line(*row) for row in rows]))
                written += len(rows)
        return written

    return write


def _executemany_writer(connection):
    """Insert rows with ``executemany`` in large batches (SQLite and other backends)."""

    def write(model, field_names, chunks) -> int:
        table, columns = _table(connection, model, field_names)
        placeholders = ", ".join(["%s"] * len(field_names))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        written, batch = 0, []
        with connection.cursor() as cursor:
            for rows in chunks:
                batch.extend(rows)
                if len(batch) >= SQLITE_BATCH:
                    cursor.executemany(sql, batch)
                    written += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                written += len(batch)
        return written

    return write


@contextmanager
def _secondary_indexes_dropped(cursor, tables: list[str]):
    """Drop foreign keys and all indexes but primary keys on ``tables``, rebuild them after.

    PostgreSQL's advice for populating a database: building an index once over many rows is
    far faster than updating it row by row, and a foreign key added to a filled table is
    checked with one query instead of one trigger call per row. Everything happens inside
    the caller's transaction, so an error leaves the schema as it was.
    """
    constraints, indexes = [], []
    for table in tables:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')",
            [table],
        )
        constraints += [(table, name, kind, definition) for name, kind, definition in cursor]
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
            [table],
        )
        indexes += list(cursor)
    for table, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for table, name, _, definition in sorted(constraints, key=lambda c: c[2] == "f"):
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in indexes:
        cursor.execute(definition)


def _interests():
    """The preferences and categories the data uses, created if missing (matched by name)."""
    from wagtail_preferences.models import Category, Preference

    preference_ids = []
    for order, (name, _, public) in enumerate(PREFERENCES):
        preference, _ = Preference.objects.get_or_create(
            name=name, defaults={"sort_order": order, "is_public": public}
        )
        preference_ids.append(preference.pk)
    category_ids = []
    for order, (name, _, _) in enumerate(CATEGORIES):
        category, _ = Category.objects.get_or_create(name=name, defaults={"sort_order": order})
        category_ids.append(category.pk)
    return preference_ids, category_ids


def generated_contacts_sql(connection, column: str = "id") -> str:
    """SQL selecting ``column`` of the generated contacts."""
    from wagtail_preferences.models import Contact

    qn = connection.ops.quote_name
    return (
        f"SELECT {qn(column)} FROM {qn(Contact._meta.db_table)} "
        f"WHERE {qn('email')} LIKE '%{GENERATED_DOMAIN_SUFFIX}'"
    )


def wipe(using: str = "default") -> int:
    """Delete generated contacts and every row that points at them. Returns how many.

    When every contact is generated, the contact tables are truncated (PostgreSQL) or emptied.
    Otherwise only generated contacts go, with plain SQL: deleting a million contacts through
    the ORM would take minutes.
    """
    from django.db import connections, transaction

    from wagtail_preferences.models import Contact

    connection = connections[using]
    qn = connection.ops.quote_name
    contact_table = qn(Contact._meta.db_table)
    related = [rel for rel in Contact._meta.related_objects if rel.field.many_to_one]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({generated_contacts_sql(connection)}) generated")
        generated = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM {contact_table}")
        everyone = cursor.fetchone()[0]
        if generated == 0:
            return 0
        if generated == everyone and connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {contact_table} CASCADE")
            return generated
        for rel in related:
            table = qn(rel.related_model._meta.db_table)
            column = qn(rel.field.column)
            if generated == everyone:
                cursor.execute(f"DELETE FROM {table}")
            else:
                cursor.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({generated_contacts_sql(connection)})"
                )
        if generated == everyone:
            cursor.execute(f"DELETE FROM {contact_table}")
        else:
            cursor.execute(
                f"DELETE FROM {contact_table} WHERE {qn('id')} IN "
                f"({generated_contacts_sql(connection)})"
            )
    return generated


def generate(
    n_contacts: int,
    seed: int = 1,
    using: str = "default",
    *,
    wipe_first: bool = False,
    analyze: bool = True,
    stdout=None,
) -> Report:
    """Write ``n_contacts`` generated contacts and their preferences, categories and channels.

    Benchmark fixture data only: rows go straight into the tables (see the module docstring).
    The same ``seed`` on the same day gives the same rows. ``wipe_first`` deletes previously
    generated contacts first; otherwise the new ones are added, with addresses that do not
    collide. ``analyze`` refreshes the planner statistics (and the visibility map on
    PostgreSQL) afterwards, as autovacuum eventually would. Progress goes to ``stdout``.
    """
    from django.core.management.color import no_style
    from django.db import connections, transaction

    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    report = Report()
    say = (lambda message: print(message, file=stdout, flush=True)) if stdout else (lambda m: 0)
    started = lap = time.perf_counter()

    def tick(name: str) -> None:
        nonlocal lap
        now = time.perf_counter()
        report.timings[name] = now - lap
        lap = now
        say(f"{name}: {report.timings[name]:.2f}s")

    if wipe_first:
        wiped = wipe(using)
        tick("wipe")
        say(f"  deleted {wiped:,} generated contacts")

    tables = _models()
    target = (
        _Target(null="\\N", true="t", false="f", timestamp_suffix="+00")
        if postgres
        else _Target(null=None, true=True, false=False, timestamp_suffix="")
    )
    write = _copy_writer(connection) if postgres else _executemany_writer(connection)

    models = [model for model, _ in tables.values()]
    table_names = [connection.ops.quote_name(model._meta.db_table) for model in models]
    with transaction.atomic(using=using):
        preference_ids, category_ids = _interests()
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SET LOCAL synchronous_commit = off")
                # Adding rows while others do would break the ids chosen below.
                cursor.execute(f"LOCK TABLE {', '.join(table_names)} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"SELECT COUNT(*) FROM {table_names[0]}")
            existing = cursor.fetchone()[0]
            id_starts = {}
            for key, table in zip(tables, table_names, strict=True):
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
                id_starts[key] = cursor.fetchone()[0]
            seen = set()
            if id_starts["contact"] > 1 and not wipe_first:
                cursor.execute(generated_contacts_sql(connection, "email"))
                seen.update(email for (email,) in cursor.fetchall())
        tick("prepare")

        rows = _Generator(n_contacts, seed, target, id_starts, seen)
        with connection.cursor() as cursor:
            # Rebuilding indexes pays off when the load at least doubles the tables.
            rebuild = postgres and n_contacts >= existing
            with _secondary_indexes_dropped(cursor, table_names) if rebuild else nullcontext():
                report.contacts = write(*tables["contact"], rows.contacts())
                tick("contacts")
                report.preference_holdings = write(
                    *tables["contactpreference"], rows.preference_holdings(preference_ids)
                )
                tick("preference holdings")
                report.category_choices = write(
                    *tables["categorychoice"], rows.category_choices(category_ids)
                )
                tick("category choices")
                report.channel_settings = write(*tables["contactchannel"], rows.channel_settings())
                tick("channel settings")
            if rebuild:
                tick("indexes")
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
    tick("commit")

    if analyze:
        with connection.cursor() as cursor:
            for table in table_names:
                vacuum = postgres and not connection.in_atomic_block
                cursor.execute(f"VACUUM ANALYZE {table}" if vacuum else f"ANALYZE {table}")
        tick("analyze")
    report.timings["total"] = time.perf_counter() - started
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contacts", type=int, help="how many contacts to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wipe", action="store_true", help="delete generated contacts first")
    parser.add_argument(
        "--database-url", help="defaults to $DATABASE_URL, else a SQLite file in bench/results/"
    )
    parser.add_argument(
        "--no-analyze", action="store_true", help="skip VACUUM ANALYZE / ANALYZE afterwards"
    )
    args = parser.parse_args(argv)

    from bench.environment import setup

    setup(args.database_url)

    from django.db import connection

    database = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    print(f"Generating {args.contacts:,} contacts on {database}")
    report = generate(
        args.contacts,
        seed=args.seed,
        wipe_first=args.wipe,
        analyze=not args.no_analyze,
        stdout=sys.stdout,
    )
    print("\n".join(report.lines()))
    rate = report.contacts / report.seconds if report.seconds else 0
    print(f"{report.contacts:,} contacts in {report.seconds:.1f}s ({rate:,.0f} contacts/s)")


if __name__ == "__main__":
    main()
