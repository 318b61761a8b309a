-- Runs once, when the postgres volume is created (docker-entrypoint-initdb.d). Airlock
-- creates its own database on migrate; Unleash needs one that exists before it starts.
CREATE DATABASE unleash;
