-- marketgeo on PostgreSQL/PostGIS, schema version 1.
-- One table per layer, geometries as PostGIS geometry(..., 4326) with GiST
-- indexes (GIS staff query them with SQL and QGIS), the change log with
-- its sequence, and the store's metadata.

CREATE TABLE mg_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO mg_meta VALUES ('store_id', md5(random()::text || clock_timestamp()::text));

-- The sequence: one row, updated by every write transaction. Its row lock
-- orders the writers of every node: numbers are handed out in commit
-- order and without gaps (docs/store.md, "Several nodes").
CREATE TABLE mg_seq (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint  NOT NULL
);
INSERT INTO mg_seq VALUES (true, 0);

CREATE TABLE mg_changes (
    seq     bigint PRIMARY KEY,
    time    timestamptz NOT NULL,
    layer   text NOT NULL,
    id      text NOT NULL,
    op      text NOT NULL CHECK (op IN ('put', 'delete')),
    writer  text,
    feature json
);
CREATE INDEX mg_changes_feature ON mg_changes (layer, id, seq);

-- adcode: the administrative division of the registration authority,
-- characters 3-8 of the unified social credit code; what a node loads with
-- --load-region and what Citus would distribute the table by.
CREATE TABLE entities (
    id            text PRIMARY KEY,
    geom          geometry(Point, 4326) NOT NULL,
    name          text NOT NULL,
    short_name    text,
    former_names  jsonb,
    address       text,
    industry      text,
    status        text,
    risk          text,
    building_id   text,
    grid_id       text,
    registered_at date,
    annual_report boolean NOT NULL DEFAULT false,
    abnormal      boolean NOT NULL DEFAULT false,
    blacklisted   boolean NOT NULL DEFAULT false,
    attrs         jsonb,
    version       bigint NOT NULL,
    adcode        text GENERATED ALWAYS AS (substr(id, 3, 6)) STORED
);
CREATE INDEX entities_geom ON entities USING gist (geom);
CREATE INDEX entities_adcode ON entities (adcode text_pattern_ops);

CREATE TABLE buildings (
    id      text PRIMARY KEY,
    geom    geometry(Polygon, 4326) NOT NULL,
    name    text,
    address text,
    floors  integer,
    height  double precision,
    attrs   jsonb,
    version bigint NOT NULL
);
CREATE INDEX buildings_geom ON buildings USING gist (geom);

CREATE TABLE places (
    id      text PRIMARY KEY,
    geom    geometry(Point, 4326) NOT NULL,
    name    text NOT NULL,
    kind    text,
    aliases jsonb,
    attrs   jsonb,
    version bigint NOT NULL
);
CREATE INDEX places_geom ON places USING gist (geom);

CREATE TABLE zones (
    id      text PRIMARY KEY,
    geom    geometry(MultiPolygon, 4326) NOT NULL,
    layer   text NOT NULL,
    name    text,
    props   jsonb,
    version bigint NOT NULL
);
CREATE INDEX zones_geom ON zones USING gist (geom);

-- Collections of JSON documents (store.Collection), one table each,
-- created on first use: mg_doc_<name> (id, version, doc).
