-- 0024 running_runs (sqlite): the interrupted-run sweeper finds the few running records without reading finished ones.
CREATE INDEX "ix_agent_runs_started_utc" ON "agent_runs" ("started_utc") WHERE status = 'running';
