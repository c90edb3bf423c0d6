"""Places of receipt (the provincial centre and the commune/ward centres) and their counters:
the reference data both channels share. `editing` saves them from the admin pages."""
