-- 0019 run_projections (postgres): the finished runs whose social proof, economics and platform figures are not added yet (ADR-052).
CREATE TABLE unprojected_runs (
    run_id uuid NOT NULL,
    CONSTRAINT pk_unprojected_runs PRIMARY KEY (run_id)
);
