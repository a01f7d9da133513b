"""Leaner bulk writes: the parcels' county reference checked once per statement, no key on ``ratings.load_id``.

A foreign key is checked row by row: for every row written, a lookup and a row lock on the table it refers
to. Measured at 1,000,000 parcels of the province demo (PostgreSQL 15, one statement into an empty copy of
``parcels``): 21.8 s with ``parcels_county_code_fkey``, 12.9 s without it, 11.9 s with the statement-level
check below (one run each: no faster than no check, but within the runs' noise; the check itself reads the new
rows once, about a second at most); 1,882,831 ratings 18.1 s with ``ratings_load_id_fkey``, 12.7 s without
it.

The county reference, which every analysis relies on, keeps its guarantee, checked per statement instead of
per row:

- an ``INSERT`` into ``parcels`` reads the statement's new rows once (a transition table), locks the
  ``admin_areas`` rows of their codes ``FOR KEY SHARE`` (as a foreign key does: not deleted, nor their code
  changed, until the writer commits) and refuses the statement, with a foreign-key violation (SQLSTATE 23503)
  naming the code, when one names no area;
- an ``UPDATE`` of a parcel's ``county_code`` checks that row (a row trigger whose ``WHEN`` skips every
  other update: closing a version sets only ``valid_to``);
- deleting an area, or changing its code, is refused while a parcel (current or closed) names it.

``ratings.load_id`` loses its key as ``parcels.load_id`` did (0002): ``loads`` rows are never deleted (they
are the record of what was loaded), so the reference cannot dangle.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_VIOLATION = (
    'RAISE EXCEPTION \'insert or update on table "parcels" violates the county reference '
    "parcels_county_code_fkey' USING ERRCODE = 'foreign_key_violation', "
    "CONSTRAINT = 'parcels_county_code_fkey', "
    "DETAIL = format('Key (county_code)=(%s) is not present in table \"admin_areas\".', missing)"
)


def upgrade() -> None:
    op.execute("ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_load_id_fkey")
    op.execute("ALTER TABLE parcels DROP CONSTRAINT IF EXISTS parcels_county_code_fkey")
    op.execute(f"""
        CREATE FUNCTION parcels_counties_known() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            codes text[];
            missing text;
        BEGIN
            SELECT array_agg(DISTINCT county_code) INTO codes FROM new_parcels WHERE county_code IS NOT NULL;
            IF codes IS NULL THEN
                RETURN NULL;
            END IF;
            PERFORM 1 FROM admin_areas WHERE code = ANY (codes) FOR KEY SHARE;
            SELECT c INTO missing FROM unnest(codes) c
            WHERE NOT EXISTS (SELECT 1 FROM admin_areas a WHERE a.code = c) LIMIT 1;
            IF missing IS NOT NULL THEN
                {_VIOLATION};
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER parcels_counties_known AFTER INSERT ON parcels
        REFERENCING NEW TABLE AS new_parcels FOR EACH STATEMENT EXECUTE FUNCTION parcels_counties_known()""")
    op.execute(f"""
        CREATE FUNCTION parcel_county_known() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            missing text := NEW.county_code;
        BEGIN
            PERFORM 1 FROM admin_areas WHERE code = missing FOR KEY SHARE;
            IF NOT FOUND THEN
                {_VIOLATION};
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER parcel_county_known AFTER UPDATE OF county_code ON parcels FOR EACH ROW
        WHEN (NEW.county_code IS NOT NULL AND NEW.county_code IS DISTINCT FROM OLD.county_code)
        EXECUTE FUNCTION parcel_county_known()""")
    op.execute("""
        CREATE FUNCTION admin_area_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM parcels WHERE county_code = OLD.code) THEN
                RAISE EXCEPTION 'update or delete on table "admin_areas" violates the county reference '
                                'parcels_county_code_fkey on table "parcels"'
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'parcels_county_code_fkey',
                          DETAIL = format('Key (code)=(%s) is still referenced from table "parcels".', OLD.code);
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER admin_area_unreferenced AFTER DELETE ON admin_areas FOR EACH ROW
        EXECUTE FUNCTION admin_area_unreferenced()""")
    op.execute("""
        CREATE TRIGGER admin_area_code_unreferenced AFTER UPDATE OF code ON admin_areas FOR EACH ROW
        WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION admin_area_unreferenced()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS admin_area_code_unreferenced ON admin_areas")
    op.execute("DROP TRIGGER IF EXISTS admin_area_unreferenced ON admin_areas")
    op.execute("DROP TRIGGER IF EXISTS parcel_county_known ON parcels")
    op.execute("DROP TRIGGER IF EXISTS parcels_counties_known ON parcels")
    op.execute("DROP FUNCTION IF EXISTS admin_area_unreferenced()")
    op.execute("DROP FUNCTION IF EXISTS parcel_county_known()")
    op.execute("DROP FUNCTION IF EXISTS parcels_counties_known()")
    op.execute(
        "ALTER TABLE parcels ADD CONSTRAINT parcels_county_code_fkey "
        "FOREIGN KEY (county_code) REFERENCES admin_areas(code)"
    )
    op.execute(
        "ALTER TABLE ratings ADD CONSTRAINT ratings_load_id_fkey FOREIGN KEY (load_id) REFERENCES loads(id)"
    )
