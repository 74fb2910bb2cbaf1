"""The web front end: the dashboard at ``/`` and GraphiQL at ``/graphql``, both served
from files packaged in ``static/`` (nothing is fetched from the internet).

The dashboard is a client of the public GraphQL API only; this package holds no
service logic and imports nothing else of graphsvc.
"""
