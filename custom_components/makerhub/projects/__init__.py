"""Projects: the store, its REST and WebSocket API, actions, Todoist, accounts and
entities."""
