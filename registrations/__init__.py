"""The rules of a registration: events, the schema and its validators, powiaty, the four statuses,
the registration window, seat allocation under one lock, and the operations that change a
registration. Imported by every other package; imports none of them.
"""
