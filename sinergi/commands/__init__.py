"""The commands of `sinergi` (the root group and `main` are `sinergi.cli`).

`kit` is what they share (`App`, the `--config`/`--profile`/`--json`/`--output`/`--color`/`--lang` options, `run`
and its exit codes, the long-running process skeleton), `console` how they print (tables, JSON, errors, colour),
`language` which language they speak and their gettext catalog (`locale/`; `case_words` tells a case's own
messages in it),
`root` the root group that shows every error as the command line asks and imports a command's module only
when that command is used; one module per command group (`case`, `events`, `registry` for `policy` and
`agencies`, `processes` for `worker` and `dev`, `gateway`, `sandbox`, `admin`, `completion`), and the helpers
some of them use (`session`, `views`, `listing`, `admin_ops`, `event_catalog`, `params`, `profiles`). None
imports `sinergi.cli`.
"""
