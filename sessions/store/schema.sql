-- gazeread session store, schema version 1.
-- One SQLite database per session, WAL mode. Times are session-clock seconds (LSL local_clock).
-- Screen coordinates are px of the stimulus window (origin top-left, y down); gaze in the
-- samples table is tracker-normalised (0..1 of the display area). Documented for readers without
-- gazeread (sqlite3, pandas, DuckDB) in docs/session_store.md.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Exactly one row: what this session is and where its data came from.
CREATE TABLE IF NOT EXISTS session (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    study             TEXT NOT NULL,
    participant       TEXT NOT NULL,
    session_number    INTEGER NOT NULL,
    created_utc       TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'running',   -- running | completed | aborted | interrupted
    protocol_name     TEXT,
    protocol_text     TEXT,     -- the protocol file as read
    protocol_sha256   TEXT,
    manifest_path     TEXT,
    manifest_text     TEXT,
    manifest_sha256   TEXT,
    seed              INTEGER,
    tracker_json      TEXT,     -- TrackerInfo: backend, model, serial, firmware, sdk, rate
    screen_json       TEXT,     -- ScreenGeometry: px, mm, distance
    provenance_json   TEXT,     -- python, OS, package versions, host
    settings_json     TEXT      -- anything else the runner needs to resume
);

-- One row per gaze sample, in acquisition order. Columns follow acquisition.samples.SAMPLE_DTYPE.
CREATE TABLE IF NOT EXISTS samples (
    t             REAL NOT NULL,     -- session clock (s), from the tracker's own timestamp
    device_ts     INTEGER NOT NULL,  -- tracker device timestamp (us)
    system_ts     INTEGER NOT NULL,  -- tracker system timestamp (us), 0 if none
    left_x        REAL, left_y  REAL,   -- normalised display coords, NULL when invalid
    right_x       REAL, right_y REAL,
    left_valid    INTEGER NOT NULL, right_valid INTEGER NOT NULL,
    left_pupil    REAL, right_pupil REAL,  -- mm
    left_eye_x    REAL, left_eye_y  REAL, left_eye_z  REAL,   -- eye position (mm)
    right_eye_x   REAL, right_eye_y REAL, right_eye_z REAL,
    flags         INTEGER NOT NULL   -- acquisition.samples.SampleFlag bits
);
CREATE INDEX IF NOT EXISTS samples_t ON samples (t);

-- Markers and device events: trial onsets (flip-timed), drift checks, dropped samples, pauses.
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY,
    t         REAL NOT NULL,
    kind      TEXT NOT NULL,
    trial_id  INTEGER,
    message   TEXT NOT NULL DEFAULT '',
    data_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_t ON events (t);

-- The planned trial list (written before the first trial) and what happened in each.
CREATE TABLE IF NOT EXISTS trials (
    id              INTEGER PRIMARY KEY,   -- 0-based position in the schedule
    block           TEXT NOT NULL,
    condition       TEXT NOT NULL,         -- e.g. diagnostic | authenticity
    image_id        TEXT NOT NULL,
    image_path      TEXT NOT NULL,
    image_sha256    TEXT,
    authenticity    TEXT,                  -- ground truth: real | synthetic
    findings        TEXT,                  -- ground truth labels, ';'-separated
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending | shown | complete | skipped
    t_start         REAL,                  -- drift check / fixation cross start
    t_onset         REAL,                  -- image flip time (session clock)
    t_offset        REAL,                  -- image removed (flip time)
    layout_json     TEXT,                  -- stimuli.layout.ImageLayout in force
    frame_intervals_json TEXT,             -- frame intervals (s) while the image was shown
    dropped_frames  INTEGER,
    attempt         INTEGER NOT NULL DEFAULT 0  -- > 0 when re-run after an interruption
);

CREATE TABLE IF NOT EXISTS responses (
    id             INTEGER PRIMARY KEY,
    trial_id       INTEGER NOT NULL REFERENCES trials (id),
    condition      TEXT NOT NULL,
    findings       TEXT,        -- diagnostic: ';'-separated labels chosen
    authenticity   TEXT,        -- authenticity: real | synthetic
    confidence     REAL,
    free_text      TEXT,
    rt_s           REAL,        -- image onset to response (s)
    t_response     REAL NOT NULL,
    answer_json    TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS fixations (
    id              INTEGER PRIMARY KEY,
    trial_id        INTEGER,
    eye             TEXT NOT NULL DEFAULT 'average',
    t_start         REAL NOT NULL,
    t_end           REAL NOT NULL,
    duration_ms     REAL NOT NULL,
    x_px            REAL, y_px REAL,       -- centroid, screen px
    x_deg           REAL, y_deg REAL,      -- centroid, degrees from screen centre
    image_x         REAL, image_y REAL,    -- centroid, image px (NULL off-image / no trial)
    dispersion_deg  REAL,
    t_emitted_start REAL,                  -- session time the start was confirmed
    t_emitted_end   REAL                   -- session time the end was emitted
);
CREATE INDEX IF NOT EXISTS fixations_t ON fixations (t_start);

CREATE TABLE IF NOT EXISTS calibrations (
    id            INTEGER PRIMARY KEY,
    t             REAL NOT NULL,
    kind          TEXT NOT NULL,      -- calibration | validation | drift_check
    method        TEXT NOT NULL,      -- tobii | software-affine | software-poly2 | ...
    accuracy_deg  REAL,
    worst_deg     REAL,
    passed        INTEGER,
    selected      INTEGER NOT NULL DEFAULT 0,
    result_json   TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS clock_offsets (
    id            INTEGER PRIMARY KEY,
    t             REAL NOT NULL,      -- session time of the measurement
    source        TEXT NOT NULL,      -- tobii_system | lsl:<source_id> | psychopy | ...
    offset_s      REAL NOT NULL,      -- session = source + offset_s
    uncertainty_s REAL
);
