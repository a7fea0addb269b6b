"""Projects: the store, its REST and WebSocket API, actions, the new-project wizard,
Todoist, people's accounts, and each project's device and entities."""
