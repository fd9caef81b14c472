"""One module per subcommand, named after it (``key-line`` -> ``key_line.py``).

Each exports a frozen ``<Name>Options`` dataclass, built by ``sshsetup.cli`` with keyword
arguments, and ``run(paths, options, ...) -> Result``; ``sshsetup.render.show`` prints the
result and returns the exit code the command chose. Prompts and confirmations are passed in
by ``cli`` (interactive sessions only); lookups, remembered options and the catalogue are
the command's business, never the adapter's.
"""
