"""The JSON API's views, one module per resource; each view looks its object
up in the token's team, makes one domain call and answers a schema of
`schemas.py`."""
