"""The CLI's commands, one module per group; `va_cli.main` adds the groups in the order
`--help` lists them."""
