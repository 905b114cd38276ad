"""Services: plain functions that take values and a unit of work and return plain results."""
