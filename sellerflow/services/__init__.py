"""The services: each domain's rules and writes, as typed functions.

Routes, pages and activities call these and nothing else to change a record; a service raises a
`sellerflow.errors.DomainError`, which carries its HTTP status and is rendered in one place."""
