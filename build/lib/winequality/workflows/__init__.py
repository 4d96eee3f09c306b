"""The workflows behind the CLI, one module each; `service.WineService` builds the adapters
from settings and hands them to the workflow a call asks for."""
