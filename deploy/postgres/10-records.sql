-- The case record's database (sinergi `[records] url`), created with the cluster on its first start.
-- An existing cluster: run once `docker compose exec postgresql createdb -U temporal sinergi_records`.
CREATE DATABASE sinergi_records OWNER temporal;
