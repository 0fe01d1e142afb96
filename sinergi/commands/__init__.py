"""The commands of `sinergi` (the root group and `main` are `sinergi.cli`).

`kit` is what they share (`App`, the `--config`/`--json` options, `run` and its exit codes, the
long-running process skeleton); one module per command group (`case`, `registry` for `policy` and
`agencies`, `processes` for `worker` and `dev`, `gateway`, `sandbox`, `admin`), and the helpers some of
them use (`session`, `views`, `listing`, `admin_ops`). None imports `sinergi.cli`.
"""
