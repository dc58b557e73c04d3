"""The command-line tools, apart from the core they drive; each runs as `python -m`:

    python -m sellerflow.cli.devstack run         # `make run`: the whole system on one machine
    python -m sellerflow.cli.history ...          # an application's timeline, history export
    python -m sellerflow.cli.users ...            # staff accounts
    python -m sellerflow.cli.audit verify         # the audit log's hash chain
    python -m sellerflow.cli.sanctions load FILE  # a sanctions list, then everyone screened

Only argument parsing, printing and `main()` live here; the functions they call live in
`sellerflow.history`, `sellerflow.users` and `sellerflow.audit`, importable without argparse.
"""
