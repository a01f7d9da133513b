"""The first schema: administrative areas, block lines with lifespans, parcels, ratings, loads, the ledger, zones.

Every geometry is a MultiPolygon in one projected storage CRS (the city's CGCS2000 Gauss-Krüger zone),
fixed here from the ``srid`` the caller hands over and recorded in ``store_meta``. Each geometry column
checks validity and non-emptiness in the database, and gets exactly one GiST index, created here.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _geom(srid: int, *, nullable: bool = False, name: str = "geom") -> str:
    null = "" if nullable else " NOT NULL"
    return (
        f"{name} geometry(MultiPolygon, {srid}){null} "
        f"CHECK ({name} IS NULL OR (ST_IsValid({name}) AND NOT ST_IsEmpty({name})))"
    )


# long: a migration is one ordered DDL script (tables, then their indexes, triggers and grants), read top to bottom
def upgrade() -> None:
    config = op.get_context().config
    if config is None:
        raise RuntimeError("run by geo.store.migrate, whose Config carries the storage SRID")
    srid = int(config.attributes["srid"])
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("""
        CREATE TABLE store_meta (
            key text PRIMARY KEY,
            value text NOT NULL
        )""")
    op.execute(f"INSERT INTO store_meta (key, value) VALUES ('storage_srid', '{srid}')")

    op.execute("""
        CREATE TABLE loads (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('boundaries', 'blocklines', 'parcels', 'ratings', 'demo')),
            source text NOT NULL,
            loaded_by text NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            report jsonb NOT NULL DEFAULT '{}'::jsonb
        )""")

    op.execute(f"""
        CREATE TABLE admin_areas (
            code varchar(6) PRIMARY KEY CHECK (code ~ '^[0-9]{{6}}$'),
            name text NOT NULL,
            level text NOT NULL CHECK (level IN ('province', 'city', 'county')),
            parent_code varchar(6),
            load_id bigint REFERENCES loads(id),
            {_geom(srid)}
        )""")
    op.execute("CREATE INDEX admin_areas_geom_idx ON admin_areas USING gist (geom)")

    op.execute(f"""
        CREATE TABLE block_lines (
            id bigserial PRIMARY KEY,
            level smallint NOT NULL CHECK (level IN (1, 2)),
            county_code varchar(6) NOT NULL REFERENCES admin_areas(code),
            name text,
            approval_doc text,
            source text,
            load_id bigint REFERENCES loads(id),
            adjustment_id bigint,
            created_by text NOT NULL,
            valid_from timestamptz NOT NULL DEFAULT now(),
            valid_to timestamptz,
            {_geom(srid)},
            CHECK (valid_to IS NULL OR valid_to >= valid_from)
        )""")
    op.execute("CREATE INDEX block_lines_geom_idx ON block_lines USING gist (geom)")
    op.execute(
        "CREATE INDEX block_lines_current_idx ON block_lines (level, county_code) WHERE valid_to IS NULL"
    )

    op.execute(f"""
        CREATE TABLE parcels (
            id bigserial PRIMARY KEY,
            parcel_no text NOT NULL CHECK (length(trim(parcel_no)) > 0),
            holder text,
            holder_id text,
            land_use text,
            county_code varchar(6) REFERENCES admin_areas(code),
            delivered_on date,
            agreed_start_on date,
            started_on date,
            agreed_completion_on date,
            completed_on date,
            agreed_operation_on date,
            operating_since date,
            agreed_full_production_on date,
            lease_years double precision CHECK (lease_years IS NULL OR lease_years > 0),
            planned_investment double precision,
            committed_investment_per_mu double precision,
            committed_tax_per_mu double precision,
            committed_output_per_mu double precision,
            min_far double precision,
            investment double precision,
            tax double precision,
            output double precision,
            floor_area double precision,
            footprint_area double precision,
            is_low_efficiency boolean,
            area_mu double precision NOT NULL CHECK (area_mu > 0),
            source_area_mu double precision,
            extra jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            load_id bigint REFERENCES loads(id),
            created_by text NOT NULL,
            valid_from timestamptz NOT NULL DEFAULT now(),
            valid_to timestamptz,
            {_geom(srid)},
            CHECK (valid_to IS NULL OR valid_to >= valid_from)
        )""")
    op.execute("CREATE INDEX parcels_geom_idx ON parcels USING gist (geom)")
    op.execute("CREATE UNIQUE INDEX parcels_current_no_idx ON parcels (parcel_no) WHERE valid_to IS NULL")
    op.execute("CREATE INDEX parcels_county_idx ON parcels (county_code) WHERE valid_to IS NULL")
    op.execute("CREATE INDEX parcels_holder_id_idx ON parcels (holder_id) WHERE valid_to IS NULL")

    op.execute("""
        CREATE TABLE ratings (
            id bigserial PRIMARY KEY,
            parcel_no text,
            holder_id text,
            year smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
            grade char(1) NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
            load_id bigint REFERENCES loads(id),
            CHECK (parcel_no IS NOT NULL OR holder_id IS NOT NULL)
        )""")
    op.execute(
        "CREATE UNIQUE INDEX ratings_subject_year_idx "
        "ON ratings (coalesce(parcel_no, ''), coalesce(holder_id, ''), year)"
    )

    op.execute(f"""
        CREATE TABLE adjustments (
            id bigserial PRIMARY KEY,
            county_code varchar(6) NOT NULL REFERENCES admin_areas(code),
            policy text NOT NULL,
            approval_doc text NOT NULL CHECK (length(trim(approval_doc)) > 0),
            reason text,
            recorded_by text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            occupied_mu double precision NOT NULL CHECK (occupied_mu >= 0),
            replaced_mu double precision NOT NULL CHECK (replaced_mu >= 0),
            balance_before_mu double precision NOT NULL,
            balance_after_mu double precision NOT NULL,
            level1_total_after_mu double precision,
            report jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            {_geom(srid, nullable=True, name="removal_geom")},
            {_geom(srid, nullable=True, name="addition_geom")}
        )""")
    op.execute("""
        ALTER TABLE block_lines ADD CONSTRAINT block_lines_adjustment_fk
        FOREIGN KEY (adjustment_id) REFERENCES adjustments(id)""")

    op.execute("""
        CREATE TABLE quota_transfers (
            id bigserial PRIMARY KEY,
            adjustment_id bigint REFERENCES adjustments(id),
            from_county varchar(6) NOT NULL REFERENCES admin_areas(code),
            to_county varchar(6) NOT NULL REFERENCES admin_areas(code),
            mu double precision NOT NULL CHECK (mu > 0),
            approval_doc text,
            recorded_by text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CHECK (from_county <> to_county)
        )""")

    op.execute(f"""
        CREATE TABLE zones (
            id bigserial PRIMARY KEY,
            name text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('candidate', 'drawn')),
            county_code varchar(6) REFERENCES admin_areas(code),
            area_mu double precision,
            params jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            requirements jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            assessment jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            {_geom(srid)}
        )""")
    op.execute("CREATE INDEX zones_geom_idx ON zones USING gist (geom)")


def downgrade() -> None:
    for table in ("zones", "quota_transfers"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("ALTER TABLE block_lines DROP CONSTRAINT IF EXISTS block_lines_adjustment_fk")
    for table in ("adjustments", "ratings", "parcels", "block_lines", "admin_areas", "loads", "store_meta"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
