"""The web application (网页端): server-rendered pages in simplified Chinese for the people who
use closedloop, signed in with accounts. Pages call the same domain functions as the API — one
access matrix, one state machine — and never re-implement a business rule. docs/web.md."""
