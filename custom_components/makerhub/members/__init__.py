"""Members: the space's agreement each person signs before their first project, and the
``makerhub/me`` view of a signed-in member (their person, projects, station)."""
