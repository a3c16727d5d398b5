-- Version 2: the runs by status, which every `serve` reads every two
-- seconds for the runs left unfinished (`status = 'running'`).
CREATE INDEX runs_by_status ON runs (status);
