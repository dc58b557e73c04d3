"""The read models of the ops figures, kept by the database in the transaction of every write.

Triggers (PostgreSQL: PL/pgSQL functions; SQLite: a trigger per kind of write) keep, whoever
writes and however (an activity, the ORM, `psql`):

- `stage_duration`: how long each stage lasted, one row per stage change the application has
  left (the next of its changes in the order (entered at, stage order, id) minus this one), in
  microseconds and in a bucket (`BUCKETS`). A write to `stage_change` recomputes the durations
  of its application only (a dozen changes) and applies the difference, so appending a change
  adds one duration wherever its moment falls among the others;
- `stage_reach`: how many applications entered each stage at least once (the funnel);
- counters (`COUNTERS`): durations per stage and bucket, so that the k-th duration of a stage is
  a probe into one bucket; applications per stage; sellers per status.

`rebuild` fills them all from the records, set-based (migration 0017, the benchmark after a
bulk load, a repair). The stage order is `Stage` as it is when the triggers are created:
reordering it, or changing the buckets, needs a migration that calls `rebuild` again.
"""

import sqlalchemy as sa

from sellerflow.vocabulary import Stage

HOUR = 3_600_000_000  # microseconds
DAY = 24 * HOUR
WEEK = 7 * DAY
TENTH = HOUR // 10
# The buckets of a duration: 0 alone (stages entered by the same move), then one per six
# minutes up to a day, one per hour up to a week, one per day beyond: a few hundred durations
# in a bucket at 100,000 applications. Bucket 0 holds only zeros: its values need no probe.
ZERO_BUCKET = 0
BUCKETS = (
    f"CASE WHEN {{us}} = 0 THEN 0 WHEN {{us}} < {DAY} THEN 1 + {{us}} / {TENTH} "
    f"WHEN {{us}} < {WEEK} THEN 241 + ({{us}} - {DAY}) / {HOUR} "
    f"ELSE {241 + 144} + ({{us}} - {WEEK}) / {DAY} END"
)
STAGE_ORDER = (
    "CASE stage "
    + " ".join(f"WHEN '{stage.value}' THEN {index}" for index, stage in enumerate(Stage))
    + f" ELSE {len(Stage)} END"
)
COLUMNS = "stage_change_id, application_id, stage, entered_at, microseconds, bucket"


def _microseconds(dialect: str, later: str, earlier: str) -> str:
    """Whole microseconds between two timestamps: exact on PostgreSQL (EXTRACT gives a numeric);
    on SQLite from the stored text `YYYY-MM-DD HH:MM:SS.ffffff`, whose date functions stop at
    milliseconds (the fraction padded in case a writer left it out)."""
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {later} - {earlier}) * 1000000 AS BIGINT)"

    def since_1970(moment: str) -> str:
        seconds = f"CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER)"
        return f"({seconds} * 1000000 + CAST(substr({moment} || '000000', 21, 6) AS INTEGER))"

    return f"({since_1970(later)} - {since_1970(earlier)})"


def durations_of(dialect: str, application: str | None = None) -> str:
    """The rows of `stage_duration` as the stage changes define them: all of them, or those of
    one application (`application` an SQL expression, such as `NEW.application_id`)."""
    where = "" if application is None else f"WHERE application_id = {application}"
    spent = _microseconds(dialect, "left_at", "entered_at")
    return f"""
        SELECT stage_change_id, application_id, stage, entered_at, microseconds,
            {BUCKETS.format(us="microseconds")} AS bucket
        FROM (
            SELECT id AS stage_change_id, application_id, stage, entered_at,
                {spent} AS microseconds
            FROM (
                SELECT id, application_id, stage, entered_at,
                    LEAD(entered_at) OVER (
                        PARTITION BY application_id ORDER BY entered_at, {STAGE_ORDER}, id
                    ) AS left_at
                FROM stage_change {where}
            ) AS journey
            WHERE left_at IS NOT NULL
        ) AS spent"""


def _sync(dialect: str, application: str) -> list[str]:
    """Bring one application's durations in line with its changes: drop the rows that changed,
    add the missing ones (an appended change touches one row, so one bucket)."""
    fresh = durations_of(dialect, application)
    return [
        f"""DELETE FROM stage_duration
        WHERE application_id = {application} AND NOT EXISTS (
            SELECT 1 FROM ({fresh}) AS fresh
            WHERE fresh.stage_change_id = stage_duration.stage_change_id
                AND fresh.stage = stage_duration.stage
                AND fresh.entered_at = stage_duration.entered_at
                AND fresh.microseconds = stage_duration.microseconds
        )""",
        f"""INSERT INTO stage_duration ({COLUMNS})
        SELECT {COLUMNS} FROM ({fresh}) AS fresh
        WHERE NOT EXISTS (
            SELECT 1 FROM stage_duration WHERE stage_change_id = fresh.stage_change_id
        )""",
    ]


def _reached(row: str) -> str:
    """Count the application in the stage of `row` if no other change put it there."""
    return f"""INSERT INTO stage_reach (stage, applications)
        SELECT {row}.stage, 1 WHERE NOT EXISTS (
            SELECT 1 FROM stage_change
            WHERE application_id = {row}.application_id AND stage = {row}.stage
                AND id <> {row}.id
        )
        ON CONFLICT (stage) DO UPDATE SET applications = stage_reach.applications + 1"""


def _left(row: str, written: str) -> str:
    """Uncount the application from the stage of `row` if no change but `written` has it."""
    return f"""UPDATE stage_reach SET applications = applications - 1
        WHERE stage = {row}.stage AND NOT EXISTS (
            SELECT 1 FROM stage_change
            WHERE application_id = {row}.application_id AND stage = {row}.stage
                AND id <> {written}.id
        )"""


# (counted table, its key columns, the counter table, the count column)
COUNTERS = [
    ("stage_duration", ("stage", "bucket"), "stage_duration_bucket", "durations"),
    ("application", ("stage",), "application_stage_count", "applications"),
    ("seller", ("status",), "seller_status_count", "sellers"),
]


TABLES = ("stage_duration", "stage_reach", *(counts for _, _, counts, _ in COUNTERS))


def _counted(keys: tuple[str, ...], counts: str, counted: str) -> str:
    return f"""INSERT INTO {counts} ({", ".join(keys)}, {counted})
        VALUES ({", ".join(f"NEW.{key}" for key in keys)}, 1)
        ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {counted} = {counts}.{counted} + 1"""


def _uncounted(keys: tuple[str, ...], counts: str, counted: str) -> str:
    match = " AND ".join(f"{key} = OLD.{key}" for key in keys)
    return f"UPDATE {counts} SET {counted} = {counted} - 1 WHERE {match}"


def _changed(keys: tuple[str, ...]) -> str:
    return " OR ".join(f"OLD.{key} IS DISTINCT FROM NEW.{key}" for key in keys)


def _postgres_triggers() -> list[str]:
    def body(statements: list[str]) -> str:
        return "".join(f"{statement};\n" for statement in statements)

    statements = [
        f"""CREATE FUNCTION stage_duration_sync(app uuid) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {body(_sync("postgresql", "app"))}
        END $$""",
        f"""CREATE FUNCTION stage_change_written() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM stage_duration_sync(OLD.application_id);
                {_left("OLD", "OLD")};
            ELSIF TG_OP = 'UPDATE' THEN
                PERFORM stage_duration_sync(OLD.application_id);
                PERFORM stage_duration_sync(NEW.application_id);
                {_left("OLD", "NEW")};
                {_reached("NEW")};
            ELSE
                PERFORM stage_duration_sync(NEW.application_id);
                {_reached("NEW")};
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER stage_change_written AFTER INSERT OR UPDATE OR DELETE ON stage_change
        FOR EACH ROW EXECUTE FUNCTION stage_change_written()""",
    ]
    for table, keys, counts, counted in COUNTERS:
        statements += [
            f"""CREATE FUNCTION {counts}_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {_uncounted(keys, counts, counted)}; END IF;
                IF TG_OP <> 'DELETE' THEN {_counted(keys, counts, counted)}; END IF;
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {counts}_written AFTER INSERT OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {counts}_kept()""",
            f"""CREATE TRIGGER {counts}_moved AFTER UPDATE OF {", ".join(keys)} ON {table}
            FOR EACH ROW WHEN ({_changed(keys)}) EXECUTE FUNCTION {counts}_kept()""",
        ]
    return statements


def _sqlite_triggers() -> list[str]:
    def trigger(name: str, event: str, table: str, statements: list[str], when: str = "") -> str:
        body = "".join(f"{statement};\n" for statement in statements)
        when = f" WHEN {when}" if when else ""
        return f"CREATE TRIGGER {name} AFTER {event} ON {table}{when} BEGIN\n{body}END"

    sync_old = _sync("sqlite", "OLD.application_id")
    sync_new = _sync("sqlite", "NEW.application_id")
    statements = [
        trigger("stage_change_inserted", "INSERT", "stage_change", [*sync_new, _reached("NEW")]),
        trigger("stage_change_deleted", "DELETE", "stage_change", [*sync_old, _left("OLD", "OLD")]),
        trigger(
            "stage_change_updated",
            "UPDATE",
            "stage_change",
            [*sync_old, *sync_new, _left("OLD", "NEW"), _reached("NEW")],
        ),
    ]
    for table, keys, counts, counted in COUNTERS:
        plus, minus = _counted(keys, counts, counted), _uncounted(keys, counts, counted)
        statements += [
            trigger(f"{counts}_inserted", "INSERT", table, [plus]),
            trigger(f"{counts}_deleted", "DELETE", table, [minus]),
            trigger(
                f"{counts}_moved",
                f"UPDATE OF {', '.join(keys)}",
                table,
                [minus, plus],
                when=_changed(keys),
            ),
        ]
    return statements


def _dropped(dialect: str) -> list[str]:
    if dialect == "postgresql":
        triggers = [("stage_change_written", "stage_change")]
        triggers += [
            (f"{counts}_{event}", table)
            for table, _, counts, _ in COUNTERS
            for event in ("written", "moved")
        ]
        functions = ["stage_change_written()", "stage_duration_sync(uuid)"]
        functions += [f"{counts}_kept()" for _, _, counts, _ in COUNTERS]
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in triggers] + [
            f"DROP FUNCTION IF EXISTS {function}" for function in functions
        ]
    names = [f"stage_change_{event}" for event in ("inserted", "deleted", "updated")]
    names += [
        f"{counts}_{event}"
        for _, _, counts, _ in COUNTERS
        for event in ("inserted", "deleted", "moved")
    ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def create_triggers(conn: sa.Connection) -> None:
    dialect = conn.dialect.name
    drop_triggers(conn)
    for statement in _postgres_triggers() if dialect == "postgresql" else _sqlite_triggers():
        conn.exec_driver_sql(statement)


def drop_triggers(conn: sa.Connection) -> None:
    """Stop keeping the read models (a bulk load, then `rebuild`)."""
    for statement in _dropped(conn.dialect.name):
        conn.exec_driver_sql(statement)


def rebuild(conn: sa.Connection) -> None:
    """Fill the read models from the records, set-based, and keep them from now on."""
    if conn.dialect.name == "postgresql":
        # No write between the fill's snapshot and the triggers' creation may be missed; SQLite
        # serialises writers anyway.
        records = ", ".join(table for table, *_ in COUNTERS if table != "stage_duration")
        conn.exec_driver_sql(f"LOCK TABLE stage_change, {records} IN SHARE ROW EXCLUSIVE MODE")
    drop_triggers(conn)
    for table in TABLES:
        conn.exec_driver_sql(f"DELETE FROM {table}")
    conn.exec_driver_sql(
        f"INSERT INTO stage_duration ({COLUMNS}) "
        f"SELECT {COLUMNS} FROM ({durations_of(conn.dialect.name)}) AS fresh"
    )
    conn.exec_driver_sql(
        "INSERT INTO stage_reach (stage, applications) "
        "SELECT stage, COUNT(DISTINCT application_id) FROM stage_change GROUP BY stage"
    )
    for table, keys, counts, counted in COUNTERS:
        key = ", ".join(keys)
        conn.exec_driver_sql(
            f"INSERT INTO {counts} ({key}, {counted}) "
            f"SELECT {key}, COUNT(*) FROM {table} GROUP BY {key}"
        )
    create_triggers(conn)
